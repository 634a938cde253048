// Package graphsync is the Microsoft Entra ID connector on Microsoft Graph.
// It is the only package of idbridge that imports msgraph-sdk-go.
package graphsync
