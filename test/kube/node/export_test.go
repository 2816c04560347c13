package node

import "time"

// The tests check that the Ready heartbeat is renewed without waiting 10 s.
func init() { heartbeatInterval = time.Second }
