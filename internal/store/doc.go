// Package store defines Hoist's durable state: the records the control plane keeps and the
// Store interface every backend (sqlite, postgres) implements. The conformance suite in
// storetest pins the contract.
package store
