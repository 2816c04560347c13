package gameserver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/sdk/gameserver"
)

// A game server started without the SDK's variables is told which to set, by the names
// a person sets.
func TestConnectFromEnvironmentNamesWhatIsUnset(t *testing.T) {
	all := []string{gameserver.EnvWebSocketURL, gameserver.EnvProcessID, gameserver.EnvHostID, gameserver.EnvFleetID, gameserver.EnvAuthToken}
	for _, k := range all {
		t.Setenv(k, "x")
	}
	t.Setenv(gameserver.EnvWebSocketURL, "")
	_, err := gameserver.ConnectFromEnvironment(context.Background(), gameserver.Options{})
	if err == nil || !strings.Contains(err.Error(), "GAMELIFT_SDK_WEBSOCKET_URL is not set") {
		t.Errorf("without the URL: %v", err)
	}
	t.Setenv(gameserver.EnvAuthToken, "")
	_, err = gameserver.ConnectFromEnvironment(context.Background(), gameserver.Options{})
	if err == nil || !strings.Contains(err.Error(), "GAMELIFT_SDK_WEBSOCKET_URL, GAMELIFT_SDK_AUTH_TOKEN are not set") {
		t.Errorf("without the URL and token: %v", err)
	}
}
