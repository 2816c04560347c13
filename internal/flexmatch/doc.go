// Package flexmatch parses FlexMatch matchmaking rule sets and forms matches from waiting
// tickets: a pure function of the tickets, the rule set and the time it is given, with no
// I/O and no locks.
package flexmatch
