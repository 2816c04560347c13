// Package access decides who may call what: the access keys API callers sign with, kept in
// the store so every replica sees them, each with the operations it is allowed, and the
// per-key rate limits that answer ThrottlingException.
package access
