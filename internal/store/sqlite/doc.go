// Package sqlite keeps Hoist's state in an embedded SQLite database file (pure Go, WAL,
// synchronous commits), implementing store.Store.
package sqlite
