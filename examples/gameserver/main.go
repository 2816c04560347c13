// Command gameserver is a small real game server on Hoist's Go server SDK: a TCP lobby where
// each player joins with the player session ID the backend got from CreatePlayerSession,
// then chats with the others in the session. It is what the quickstart runs.
//
// Protocol, one line each way:
//
//	> JOIN psess-...         < OK <game session ID>   or   < DENIED <reason>
//	> SAY hello              < (every other player) FROM <player session ID> hello
//	> QUIT                   < BYE
//
// The process reads GAMELIFT_SDK_* from its environment, listens on -port (0: any free
// port), and ends (ProcessEnding) when the last player of its session leaves, when the
// service asks it to, or on SIGTERM/SIGINT.
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/hoist-dev/hoist/examples/gameserver/lobby"
)

func main() {
	port := flag.Int("port", 0, "TCP port players connect to; 0 picks a free one")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("pid", os.Getpid())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := lobby.Run(ctx, *port, log); err != nil {
		log.Error("game server failed", "error", err)
		os.Exit(1)
	}
}
