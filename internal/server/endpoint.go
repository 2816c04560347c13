package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// endpointFile records, in the data directory, how the last server started there is
// reached, for the commands run beside it (hoist keys).
const endpointFile = "endpoint.json"

// Reach is how clients reach a server: its API's URL and the certificate file to trust
// it by ("" when the system's certificates do, or over plain HTTP).
type Reach struct {
	Endpoint string
	CABundle string `json:",omitempty"`
}

// LoadReach reads how the last server started with dataDir is reached; the zero Reach
// when none recorded it.
func LoadReach(dataDir string) (Reach, error) {
	var r Reach
	b, err := os.ReadFile(filepath.Join(dataDir, endpointFile))
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("read the server's endpoint: %w", err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", filepath.Join(dataDir, endpointFile), err)
	}
	return r, nil
}

// recordReach keeps r in dataDir for LoadReach.
func recordReach(dataDir string, r Reach) error {
	b, _ := json.MarshalIndent(r, "", "  ")
	tmp := filepath.Join(dataDir, endpointFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("record the server's endpoint: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dataDir, endpointFile)); err != nil {
		return fmt.Errorf("record the server's endpoint: %w", err)
	}
	return nil
}
