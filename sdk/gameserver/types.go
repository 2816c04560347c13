package gameserver

import (
	"fmt"
	"time"
)

// ServerParameters say where the service is and who this process is.
type ServerParameters struct {
	WebSocketURL string // GAMELIFT_SDK_WEBSOCKET_URL
	ProcessID    string // GAMELIFT_SDK_PROCESS_ID
	HostID       string // GAMELIFT_SDK_HOST_ID: the compute name
	FleetID      string // GAMELIFT_SDK_FLEET_ID
	AuthToken    string // GAMELIFT_SDK_AUTH_TOKEN
}

// ProcessParameters tell the service how to reach the game and how it wants to be told
// of events. Callbacks run on their own goroutine.
type ProcessParameters struct {
	OnStartGameSession  func(GameSession)
	OnUpdateGameSession func(UpdateGameSession)
	OnProcessTerminate  func()
	// OnHealthCheck reports health before each heartbeat; nil means always healthy.
	OnHealthCheck func() bool
	// Port is where players connect.
	Port          int
	LogParameters LogParameters
}

// LogParameters lists files the service keeps after a game session: paths in the
// process's working directory (relative to it, or absolute under it).
type LogParameters struct {
	LogPaths []string
}

// GameSession is a session the service asks this process to host.
type GameSession struct {
	GameSessionID             string            `json:"GameSessionId"`
	Name                      string            `json:"GameSessionName"`
	FleetID                   string            `json:"FleetId"`
	MaximumPlayerSessionCount int               `json:"MaximumPlayerSessionCount"`
	IPAddress                 string            `json:"IpAddress"`
	DNSName                   string            `json:"DnsName"`
	Port                      int               `json:"Port"`
	GameSessionData           string            `json:"GameSessionData"`
	MatchmakerData            string            `json:"MatchmakerData"`
	GameProperties            map[string]string `json:"GameProperties"`
}

// UpdateGameSession is a change to the hosted session (matchmaking backfill).
type UpdateGameSession struct {
	GameSession      GameSession `json:"GameSession"`
	UpdateReason     string      `json:"UpdateReason"`
	BackfillTicketID string      `json:"BackfillTicketId"`
}

// PlayerSessionCreationPolicy says whether a session takes new players.
type PlayerSessionCreationPolicy string

const (
	AcceptAll PlayerSessionCreationPolicy = "ACCEPT_ALL"
	DenyAll   PlayerSessionCreationPolicy = "DENY_ALL"
)

// DescribePlayerSessionsRequest filters player sessions; set one of the three IDs.
type DescribePlayerSessionsRequest struct {
	GameSessionID             string `json:"GameSessionId,omitempty"`
	PlayerID                  string `json:"PlayerId,omitempty"`
	PlayerSessionID           string `json:"PlayerSessionId,omitempty"`
	PlayerSessionStatusFilter string `json:"PlayerSessionStatusFilter,omitempty"`
	NextToken                 string `json:"NextToken,omitempty"`
	Limit                     int    `json:"Limit,omitempty"`
}

// PlayerSession is a player's reservation in a game session.
type PlayerSession struct {
	PlayerSessionID string `json:"PlayerSessionId"`
	PlayerID        string `json:"PlayerId"`
	GameSessionID   string `json:"GameSessionId"`
	FleetID         string `json:"FleetId"`
	PlayerData      string `json:"PlayerData"`
	IPAddress       string `json:"IpAddress"`
	DNSName         string `json:"DnsName"`
	Port            int    `json:"Port"`
	Status          string `json:"Status"`
	CreationTime    int64  `json:"CreationTime"`    // epoch milliseconds
	TerminationTime int64  `json:"TerminationTime"` // epoch milliseconds
}

// DescribePlayerSessionsResult is one page of player sessions.
type DescribePlayerSessionsResult struct {
	PlayerSessions []PlayerSession `json:"PlayerSessions"`
	NextToken      string          `json:"NextToken"`
}

// Error is a failure the service answered with, or one found before asking it.
type Error struct {
	// StatusCode is the service's answer (400, 401, 404, 409, 429, 500); 0 when the call
	// never got an answer.
	StatusCode int
	Message    string
}

func (e *Error) Error() string {
	if e.StatusCode == 0 {
		return "gameserver: " + e.Message
	}
	return fmt.Sprintf("gameserver: service answered %d: %s", e.StatusCode, e.Message)
}

func errorf(format string, args ...any) error { return &Error{Message: fmt.Sprintf(format, args...)} }

// terminationTime converts the epoch milliseconds of a TerminateProcess push.
func terminationTime(ms int64) time.Time { return time.UnixMilli(ms) }
