package server

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/store/postgres"
	"github.com/hoist-dev/hoist/internal/store/sqlite"
)

// openStore opens the store rawURL names: a postgres:// or postgresql:// URL is a
// PostgreSQL database; an empty one is SQLite in the data directory.
func openStore(ctx context.Context, rawURL, dataDir string) (store.Store, error) {
	if rawURL == "" {
		return sqlite.Open(ctx, filepath.Join(dataDir, "hoist.db"))
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("store URL: %w", err)
	}
	switch u.Scheme {
	case "postgres", "postgresql":
		return postgres.Open(ctx, rawURL)
	}
	return nil, fmt.Errorf("store URL %s: want postgres://... (or postgresql://), or none for SQLite in the data directory", u.Redacted())
}

// storeKind names the kind of store rawURL opens, for metrics: postgres or sqlite.
func storeKind(rawURL string) string {
	if rawURL == "" {
		return "sqlite"
	}
	return "postgres"
}
