package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hoist-dev/hoist/internal/access"
)

// Credentials is the access key pair clients sign requests with.
type Credentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
}

const credentialsFile = "credentials.json"

// LoadCredentials reads the key pair a server keeps in dataDir.
func LoadCredentials(dataDir string) (Credentials, error) {
	path := filepath.Join(dataDir, credentialsFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return Credentials{}, fmt.Errorf("no key pair in %s: start hoist server with that --data-dir first", dataDir)
	}
	c, _, err := loadOrCreateCredentials(dataDir)
	return c, err
}

// loadOrCreateCredentials returns the key pair kept in dataDir, creating one on first start.
// created tells whether it was just made.
func loadOrCreateCredentials(dataDir string) (c Credentials, created bool, err error) {
	path := filepath.Join(dataDir, credentialsFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(b, &c); err != nil || c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return c, false, fmt.Errorf("%s is not a valid credentials file; remove it to have a new key pair made", path)
		}
		return c, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return c, false, fmt.Errorf("read credentials: %w", err)
	}
	c.AccessKeyID, c.SecretAccessKey = access.NewKeyPair()
	b, _ = json.MarshalIndent(c, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return c, false, fmt.Errorf("write credentials: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return c, false, fmt.Errorf("write credentials: %w", err)
	}
	return c, true, nil
}
