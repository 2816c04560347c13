// Package search parses and evaluates SearchGameSessions' filter and sort expressions: a
// pure function of an expression and the sessions it is given, with no I/O and no locks.
package search
