package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// Store is a store.Store in one SQLite file.
type Store struct {
	write *sql.DB // one connection: SQLite has one writer at a time
	read  *sql.DB // a pool of read-only connections; WAL lets them read while a write runs
}

// migrations are applied in order; PRAGMA user_version counts those already applied.
var migrations = []string{
	`CREATE TABLE records (
		kind   TEXT    NOT NULL,
		key    TEXT    NOT NULL,
		parent TEXT    NOT NULL DEFAULT '',
		seq    INTEGER NOT NULL,
		body   BLOB    NOT NULL,
		PRIMARY KEY (kind, key)
	) WITHOUT ROWID;
	CREATE UNIQUE INDEX records_by_seq ON records (kind, seq);
	CREATE INDEX records_by_parent ON records (kind, parent, seq);
	CREATE TABLE sequence (next INTEGER NOT NULL);
	INSERT INTO sequence (next) VALUES (1);`,
}

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the database at path and brings its schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	write, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	read.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	return &Store{write: write, read: read}, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this hoist (%d)", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(len(migrations))); err != nil {
		return err
	}
	return tx.Commit()
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.read.Close(), s.write.Close())
}

func (s *Store) Locations() store.Table[store.Location] { return table[store.Location]{s, "location"} }
func (s *Store) Fleets() store.Table[store.Fleet]       { return table[store.Fleet]{s, "fleet"} }
func (s *Store) FleetEvents() store.Table[gamelift.Event] {
	return table[gamelift.Event]{s, "fleet_event"}
}
func (s *Store) Aliases() store.Table[store.Alias]    { return table[store.Alias]{s, "alias"} }
func (s *Store) Computes() store.Table[store.Compute] { return table[store.Compute]{s, "compute"} }
func (s *Store) AuthTokens() store.Table[store.AuthToken] {
	return table[store.AuthToken]{s, "auth_token"}
}
func (s *Store) Builds() store.Table[store.Build] { return table[store.Build]{s, "build"} }
func (s *Store) GameSessions() store.Table[store.GameSession] {
	return table[store.GameSession]{s, "game_session"}
}

// table is one kind of record in the records table, JSON-encoded.
type table[T any] struct {
	s    *Store
	kind string
}

func (t table[T]) Create(ctx context.Context, key, parent string, v T) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", t.kind, key, err)
	}
	tx, err := t.s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	var seq int64
	if err := tx.QueryRowContext(ctx, `UPDATE sequence SET next = next + 1 RETURNING next - 1`).Scan(&seq); err != nil {
		return fmt.Errorf("next sequence: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO records (kind, key, parent, seq, body) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (kind, key) DO NOTHING`, t.kind, key, parent, seq, body)
	if err != nil {
		return fmt.Errorf("insert %s %s: %w", t.kind, key, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s %s: %w", t.kind, key, store.ErrExists)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit %s %s: %w", t.kind, key, err)
	}
	return nil
}

func (t table[T]) Get(ctx context.Context, key string) (T, error) {
	var v T
	var body []byte
	err := t.s.read.QueryRowContext(ctx, `SELECT body FROM records WHERE kind = ? AND key = ?`, t.kind, key).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("%s %s: %w", t.kind, key, store.ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("get %s %s: %w", t.kind, key, err)
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return v, fmt.Errorf("decode %s %s: %w", t.kind, key, err)
	}
	return v, nil
}

func (t table[T]) Update(ctx context.Context, key string, fn func(*T) error) (T, error) {
	var v T
	tx, err := t.s.write.BeginTx(ctx, nil)
	if err != nil {
		return v, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	var body []byte
	err = tx.QueryRowContext(ctx, `SELECT body FROM records WHERE kind = ? AND key = ?`, t.kind, key).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("%s %s: %w", t.kind, key, store.ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("get %s %s: %w", t.kind, key, err)
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return v, fmt.Errorf("decode %s %s: %w", t.kind, key, err)
	}
	if err := fn(&v); err != nil {
		return v, err
	}
	if body, err = json.Marshal(v); err != nil {
		return v, fmt.Errorf("encode %s %s: %w", t.kind, key, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE records SET body = ? WHERE kind = ? AND key = ?`, body, t.kind, key); err != nil {
		return v, fmt.Errorf("update %s %s: %w", t.kind, key, err)
	}
	if err := tx.Commit(); err != nil {
		return v, fmt.Errorf("commit %s %s: %w", t.kind, key, err)
	}
	return v, nil
}

func (t table[T]) Delete(ctx context.Context, key string) error {
	res, err := t.s.write.ExecContext(ctx, `DELETE FROM records WHERE kind = ? AND key = ?`, t.kind, key)
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", t.kind, key, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s %s: %w", t.kind, key, store.ErrNotFound)
	}
	return nil
}

const tokenPrefix = "s"

func (t table[T]) List(ctx context.Context, q store.Query) (store.Page[T], error) {
	var page store.Page[T]
	after := int64(0)
	if q.Token != "" {
		n, err := strconv.ParseInt(strings.TrimPrefix(q.Token, tokenPrefix), 10, 64)
		if err != nil || !strings.HasPrefix(q.Token, tokenPrefix) || n < 0 {
			return page, store.ErrBadToken
		}
		after = n
	}
	limit := -1
	if q.Limit > 0 {
		limit = q.Limit + 1 // one more tells whether another page follows
	}
	sqlText := `SELECT seq, body FROM records WHERE kind = ? AND seq > ? ORDER BY seq LIMIT ?`
	args := []any{t.kind, after, limit}
	if q.Parent != "" {
		sqlText = `SELECT seq, body FROM records WHERE kind = ? AND parent = ? AND seq > ? ORDER BY seq LIMIT ?`
		args = []any{t.kind, q.Parent, after, limit}
	}
	rows, err := t.s.read.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return page, fmt.Errorf("list %s: %w", t.kind, err)
	}
	defer rows.Close()
	var lastSeq int64
	for rows.Next() {
		if q.Limit > 0 && len(page.Items) == q.Limit {
			page.Next = tokenPrefix + strconv.FormatInt(lastSeq, 10)
			break
		}
		var body []byte
		if err := rows.Scan(&lastSeq, &body); err != nil {
			return page, fmt.Errorf("list %s: %w", t.kind, err)
		}
		var v T
		if err := json.Unmarshal(body, &v); err != nil {
			return page, fmt.Errorf("decode %s: %w", t.kind, err)
		}
		page.Items = append(page.Items, v)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list %s: %w", t.kind, err)
	}
	return page, nil
}
