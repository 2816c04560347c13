package gameserver

import (
	"context"
	"sync"
	"time"
)

// The package-level API mirrors the official SDK's: one process, one connection.
var (
	defaultMu     sync.Mutex
	defaultClient *Client
)

func current() (*Client, error) {
	defaultMu.Lock()
	defer defaultMu.Unlock()
	if defaultClient == nil {
		return nil, errorf("the SDK is not initialized: call InitSDK first")
	}
	return defaultClient, nil
}

// InitSDK connects this process to the service with explicit parameters.
func InitSDK(ctx context.Context, p ServerParameters) error {
	c, err := Connect(ctx, p, Options{})
	if err != nil {
		return err
	}
	return setDefault(c)
}

// InitSDKFromEnvironment connects with the GAMELIFT_SDK_* environment variables.
func InitSDKFromEnvironment(ctx context.Context) error {
	c, err := ConnectFromEnvironment(ctx, Options{})
	if err != nil {
		return err
	}
	return setDefault(c)
}

func setDefault(c *Client) error {
	defaultMu.Lock()
	defer defaultMu.Unlock()
	if defaultClient != nil {
		c.Destroy()
		return errorf("the SDK is already initialized")
	}
	defaultClient = c
	return nil
}

// ProcessReady: see Client.ProcessReady.
func ProcessReady(ctx context.Context, p ProcessParameters) error {
	c, err := current()
	if err != nil {
		return err
	}
	return c.ProcessReady(ctx, p)
}

// ProcessEnding: see Client.ProcessEnding.
func ProcessEnding(ctx context.Context) error {
	c, err := current()
	if err != nil {
		return err
	}
	return c.ProcessEnding(ctx)
}

// ActivateGameSession: see Client.ActivateGameSession.
func ActivateGameSession(ctx context.Context) error {
	c, err := current()
	if err != nil {
		return err
	}
	return c.ActivateGameSession(ctx)
}

// AcceptPlayerSession: see Client.AcceptPlayerSession.
func AcceptPlayerSession(ctx context.Context, playerSessionID string) error {
	c, err := current()
	if err != nil {
		return err
	}
	return c.AcceptPlayerSession(ctx, playerSessionID)
}

// RemovePlayerSession: see Client.RemovePlayerSession.
func RemovePlayerSession(ctx context.Context, playerSessionID string) error {
	c, err := current()
	if err != nil {
		return err
	}
	return c.RemovePlayerSession(ctx, playerSessionID)
}

// DescribePlayerSessions: see Client.DescribePlayerSessions.
func DescribePlayerSessions(ctx context.Context, req DescribePlayerSessionsRequest) (DescribePlayerSessionsResult, error) {
	c, err := current()
	if err != nil {
		return DescribePlayerSessionsResult{}, err
	}
	return c.DescribePlayerSessions(ctx, req)
}

// UpdatePlayerSessionCreationPolicy: see Client.UpdatePlayerSessionCreationPolicy.
func UpdatePlayerSessionCreationPolicy(ctx context.Context, policy PlayerSessionCreationPolicy) error {
	c, err := current()
	if err != nil {
		return err
	}
	return c.UpdatePlayerSessionCreationPolicy(ctx, policy)
}

// GetGameSessionId: see Client.GetGameSessionID. The name is the official SDK's.
func GetGameSessionId() (string, error) { //nolint:revive // the official SDK's name
	c, err := current()
	if err != nil {
		return "", err
	}
	return c.GetGameSessionID()
}

// GetTerminationTime: see Client.GetTerminationTime.
func GetTerminationTime() (time.Time, error) {
	c, err := current()
	if err != nil {
		return time.Time{}, err
	}
	return c.GetTerminationTime()
}

// Destroy closes the connection; InitSDK may be called again afterwards.
func Destroy() error {
	defaultMu.Lock()
	c := defaultClient
	defaultClient = nil
	defaultMu.Unlock()
	if c == nil {
		return nil
	}
	return c.Destroy()
}
