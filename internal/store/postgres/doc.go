// Package postgres keeps Hoist's state in a PostgreSQL database that several hoist server
// replicas can share, implementing store.Store.
package postgres
