// Package writeback will hold password, group and device writeback from the
// cloud to the on-premises directory. It is not written yet.
package writeback
