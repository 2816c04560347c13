// Package lobby is the example game: a TCP lobby on Hoist's Go server SDK (see the
// gameserver command for its protocol).
package lobby

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/hoist-dev/hoist/sdk/gameserver"
)

// lobby is the game: the players of the one session this process hosts.
type lobby struct {
	sdk  *gameserver.Client
	log  *slog.Logger
	done chan string // why the game is over

	mu      sync.Mutex
	session string
	players map[string]net.Conn // player session ID -> connection
	joined  int
}

// maxPort is the highest port ProcessReady may report, as GameLift's SDK bounds it.
const maxPort = 60000

// listen listens on port, or with 0 on a free port ProcessReady may report: the system's
// own pick can be above maxPort (Linux hands out 32768-60999), so it picks again.
func listen(port int) (net.Listener, error) {
	for range 100 {
		ln, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
		if err != nil {
			return nil, fmt.Errorf("listen: %w", err)
		}
		if port != 0 || ln.Addr().(*net.TCPAddr).Port <= maxPort {
			return ln, nil
		}
		ln.Close()
	}
	return nil, fmt.Errorf("listen: no free port at or below %d after 100 tries", maxPort)
}

// Run serves one game session on port (0: any free port) until the game is over, the
// service asks the process to end, or ctx ends; then it calls ProcessEnding.
func Run(ctx context.Context, port int, log *slog.Logger) error {
	ln, err := listen(port)
	if err != nil {
		return err
	}
	defer ln.Close()
	port = ln.Addr().(*net.TCPAddr).Port

	sdk, err := gameserver.ConnectFromEnvironment(ctx, gameserver.Options{Logger: log})
	if err != nil {
		return fmt.Errorf("init SDK: %w", err)
	}
	defer sdk.Destroy()
	g := &lobby{sdk: sdk, log: log, done: make(chan string, 1), players: map[string]net.Conn{}}

	err = sdk.ProcessReady(ctx, gameserver.ProcessParameters{
		Port:               port,
		OnStartGameSession: g.start,
		OnProcessTerminate: func() { g.over("the service asked the process to end") },
		OnHealthCheck:      func() bool { return true },
	})
	if err != nil {
		return fmt.Errorf("process ready: %w", err)
	}
	log.Info("ready for a game session", "port", port)
	go g.accept(ln)

	var reason string
	select {
	case <-ctx.Done():
		reason = "signal"
	case reason = <-g.done:
	}
	log.Info("game over; ending the process", "reason", reason)
	ending, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sdk.ProcessEnding(ending); err != nil {
		return fmt.Errorf("process ending: %w", err)
	}
	return nil
}

func (g *lobby) over(reason string) {
	select {
	case g.done <- reason:
	default:
	}
}

// start hosts the session the service placed here.
func (g *lobby) start(gs gameserver.GameSession) {
	g.mu.Lock()
	g.session = gs.GameSessionID
	g.mu.Unlock()
	g.log.Info("starting game session", "game_session", gs.GameSessionID, "max_players", gs.MaximumPlayerSessionCount, "properties", gs.GameProperties)
	if err := g.sdk.ActivateGameSession(context.Background()); err != nil {
		g.log.Error("activate game session", "error", err)
		g.over("could not activate the game session")
	}
}

func (g *lobby) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				g.log.Error("accept", "error", err)
			}
			return
		}
		go g.play(c)
	}
}

// play runs one player's connection: JOIN first, then SAY until QUIT or disconnect.
func (g *lobby) play(c net.Conn) {
	defer c.Close()
	in := bufio.NewScanner(c)
	if !in.Scan() {
		return
	}
	verb, id, _ := strings.Cut(strings.TrimSpace(in.Text()), " ")
	if verb != "JOIN" || id == "" {
		fmt.Fprintln(c, "DENIED first send JOIN <player session ID>")
		return
	}
	g.mu.Lock()
	session := g.session
	g.mu.Unlock()
	if session == "" {
		fmt.Fprintln(c, "DENIED no game session yet")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err := g.sdk.AcceptPlayerSession(ctx, id)
	cancel()
	if err != nil {
		fmt.Fprintln(c, "DENIED", err)
		return
	}
	g.mu.Lock()
	g.players[id] = c
	g.joined++
	g.mu.Unlock()
	g.log.Info("player joined", "player_session", id)
	fmt.Fprintln(c, "OK", session)

	for in.Scan() {
		verb, text, _ := strings.Cut(strings.TrimSpace(in.Text()), " ")
		if verb == "QUIT" {
			fmt.Fprintln(c, "BYE")
			break
		}
		if verb == "SAY" {
			g.broadcast(id, text)
		}
	}
	g.leave(id)
}

func (g *lobby) broadcast(from, text string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for id, c := range g.players {
		if id != from {
			fmt.Fprintln(c, "FROM", from, text)
		}
	}
}

// leave frees the player's slot; the game is over when the last player has left.
func (g *lobby) leave(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.sdk.RemovePlayerSession(ctx, id); err != nil {
		g.log.Warn("remove player session", "player_session", id, "error", err)
	}
	g.mu.Lock()
	delete(g.players, id)
	empty := len(g.players) == 0 && g.joined > 0
	g.mu.Unlock()
	g.log.Info("player left", "player_session", id)
	if empty {
		g.over("the last player left")
	}
}
