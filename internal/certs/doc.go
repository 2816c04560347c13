// Package certs holds the server's TLS certificate (files given, or a self-signed one kept
// in the data directory) and the certificate pools clients trust it with.
package certs
