package server_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
)

// BenchmarkCreateGameSession measures CreateGameSession through the whole server: an AWS
// SDK for Go v2 call (RPC v2 CBOR, SigV4) on loopback, validation, placement on one of
// b.N ready processes (raw SDK WebSockets), the durable SQLite write (synchronous=FULL)
// and the answer. Run with a fixed count, e.g. -benchtime=2000x, as each op needs a process.
func BenchmarkCreateGameSession(b *testing.B) {
	w, in := benchWorld(b)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if _, err := w.api.CreateGameSession(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateGameSessionParallel is the same call from 32 clients at once per core.
func BenchmarkCreateGameSessionParallel(b *testing.B) {
	w, in := benchWorld(b)
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := w.api.CreateGameSession(context.Background(), in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchWorld is a server with b.N ready processes, and the request the benchmarks send.
func benchWorld(b *testing.B) (*sdkWorld, *gl.CreateGameSessionInput) {
	w := newSDKWorld(b)
	for i := range b.N {
		p := dialRaw(b, w, fmt.Sprint("bench-", i))
		p.send(`{"Action":"ActivateServerProcess","RequestId":"a","Port":9000}`)
		p.recv()
	}
	return w, &gl.CreateGameSessionInput{FleetId: aws.String(w.fleetID), Location: aws.String("custom-sdk-1"), MaximumPlayerSessionCount: aws.Int32(8)}
}
