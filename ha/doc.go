// Package ha will hold high availability: staging-mode servers and leader
// election on etcd or PostgreSQL with fencing, so that two engines never
// export at once. It is not written yet.
package ha
