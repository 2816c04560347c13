package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// Store is a store.Store in a PostgreSQL database. Each call takes a connection from a
// bounded pool for as long as it runs, and gives it back: no connection is kept aside, so
// when the database restarts the pool drops the dead connections (pgx closes a connection
// whose query failed on the wire, and pings one idle for more than a second before handing
// it out) and later calls connect anew. While the database is unreachable calls fail.
type Store struct {
	pool *pgxpool.Pool
	// updates holds a slot per Update transaction under way. An Update holds its connection
	// while fn runs, and fn may read the store, which takes another; capping Updates at
	// three quarters of the pool leaves connections for those reads (and for creates and
	// deletes), so Updates cannot starve each other. (Half the pool made game session
	// activations, each an Update, queue behind creates under hoist bench.)
	updates chan struct{}
	// origin names this Store's connections (application_name), so Changes can tell the
	// changes others made from its own; listenConfig opens the connection Changes listens on.
	origin       string
	listenConfig *pgx.ConnConfig
	onCommit     atomic.Pointer[func(time.Duration)]
}

// ObserveCommits has fn told how long each write's transaction took, to the end of its
// commit: every Create, Update and Delete is one.
func (s *Store) ObserveCommits(fn func(time.Duration)) { s.onCommit.Store(&fn) }

// committed tells the commit observer, if any, of a write begun at start.
func (s *Store) committed(start time.Time) {
	if fn := s.onCommit.Load(); fn != nil {
		(*fn)(time.Since(start))
	}
}

// DefaultMaxConns bounds the pool unless the URL sets pool_max_conns.
const DefaultMaxConns = 16

// connectTimeout bounds opening a connection unless the URL sets connect_timeout.
const connectTimeout = 10 * time.Second

// Records are stored as bytea holding the JSON encoding/json makes, not as jsonb. jsonb
// would let SQL look inside records, which Hoist does not do (every query is by kind, key,
// parent or sequence), at the price of parsing every write and re-printing every read; and
// jsonb refuses the escape \u0000, which encoding/json writes for a NUL in any string a
// caller sent (game session data, player data), so such a write would fail. bytea stores
// the bytes SQLite stores, as they are; convert_from(body, 'UTF8')::jsonb reads them in
// psql.
var migrations = []string{
	`CREATE TABLE records (
		kind   text   NOT NULL,
		key    text   NOT NULL,
		parent text   NOT NULL DEFAULT '',
		seq    bigint GENERATED ALWAYS AS IDENTITY,
		body   bytea  NOT NULL,
		PRIMARY KEY (kind, key)
	);
	CREATE UNIQUE INDEX records_by_seq ON records (kind, seq);
	CREATE INDEX records_by_parent ON records (kind, parent, seq);`,
	// Every committed change of a record is announced on the channel hoist_changes as
	// "<origin> <kind> <key>", origin being the application_name of the connection that
	// made it (each Store sets its own), so a server hears the changes other servers make.
	`CREATE FUNCTION hoist_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM pg_notify('hoist_changes', current_setting('application_name') || ' ' ||
			COALESCE(NEW.kind, OLD.kind) || ' ' || COALESCE(NEW.key, OLD.key));
		RETURN NULL;
	END $$;
	CREATE TRIGGER records_changed AFTER INSERT OR UPDATE OR DELETE ON records
		FOR EACH ROW EXECUTE FUNCTION hoist_announce_change();`,
	// Announcing costs every commit a turn at PostgreSQL's one notification queue (a third
	// of a lone server's create rate): announce only while two or more servers are
	// recorded as replicas, when someone else listens.
	`CREATE OR REPLACE FUNCTION hoist_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF (SELECT count(*) FROM (SELECT 1 FROM records WHERE kind = 'replica' LIMIT 2) r) >= 2 THEN
			PERFORM pg_notify('hoist_changes', current_setting('application_name') || ' ' ||
				COALESCE(NEW.kind, OLD.kind) || ' ' || COALESCE(NEW.key, OLD.key));
		END IF;
		RETURN NULL;
	END $$;`,
}

// migrationLock is the advisory lock key that serializes migrations between replicas
// starting at once ("hoist" in ASCII).
const migrationLock = 0x686f697374

// Open connects to the database at url (postgres://...) and brings its schema up to date.
// The URL's pool_max_conns bounds the pool (DefaultMaxConns when absent).
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse PostgreSQL URL: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	origin := "hoist-" + randomHex(8)
	cfg.ConnConfig.RuntimeParams["application_name"] = origin
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL pool: %w", err)
	}
	s := &Store{pool: pool, updates: make(chan struct{}, max(1, cfg.MaxConns*3/4)), origin: origin, listenConfig: cfg.ConnConfig.Copy()}
	if err := s.check(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate PostgreSQL schema: %w", err)
	}
	return s, nil
}

// check refuses a database that acknowledges commits before they are on disk: Hoist
// answers a write only once it is durable.
func (s *Store) check(ctx context.Context) error {
	var sync string
	if err := s.pool.QueryRow(ctx, `SELECT current_setting('synchronous_commit')`).Scan(&sync); err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if sync == "off" {
		return errors.New("PostgreSQL has synchronous_commit off, so a commit could be lost after Hoist answered it: turn it on, or add synchronous_commit=on to the URL")
	}
	return nil
}

// migrate applies the migrations not yet applied, in one transaction. The advisory lock
// makes replicas starting at once take turns: the first applies them, the others then
// find the schema up to date.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return fmt.Errorf("take the migration lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)`); err != nil {
		return err
	}
	var version int
	err = tx.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		_, err = tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES (0)`)
	}
	if err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this hoist (%d)", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.Exec(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE schema_version SET version = $1`, len(migrations)); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Close closes the pool's connections; calls after it fail. Closing twice is harmless.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
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
func (s *Store) Queues() store.Table[store.Queue] { return table[store.Queue]{s, "queue"} }
func (s *Store) Processes() store.Table[store.Process] {
	return table[store.Process]{s, "process"}
}
func (s *Store) Creators() store.Table[store.Creator] {
	return table[store.Creator]{s, "creator"}
}
func (s *Store) RuleSets() store.Table[store.RuleSet] {
	return table[store.RuleSet]{s, "rule_set"}
}
func (s *Store) MatchConfigs() store.Table[store.MatchConfig] {
	return table[store.MatchConfig]{s, "match_config"}
}
func (s *Store) ContainerGroupDefinitions() store.Table[store.ContainerGroupDefinition] {
	return table[store.ContainerGroupDefinition]{s, "container_group_definition"}
}
func (s *Store) Tickets() store.Table[store.Ticket] { return table[store.Ticket]{s, "ticket"} }
func (s *Store) Replicas() store.Table[store.Replica] {
	return table[store.Replica]{s, "replica"}
}
func (s *Store) Placements() store.Table[store.Placement] {
	return table[store.Placement]{s, "placement"}
}
func (s *Store) AccessKeys() store.Table[store.AccessKey] {
	return table[store.AccessKey]{s, "access_key"}
}
func (s *Store) GameSessions() store.Table[store.GameSession] {
	return table[store.GameSession]{s, "game_session"}
}

// table is one kind of record in the records table, JSON-encoded. Every write is one
// transaction, committed (with synchronous_commit, flushed) before the call returns.
type table[T any] struct {
	s    *Store
	kind string
}

func (t table[T]) Create(ctx context.Context, key, parent string, v T) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", t.kind, key, err)
	}
	start := time.Now()
	tag, err := t.s.pool.Exec(ctx, `INSERT INTO records (kind, key, parent, body) VALUES ($1, $2, $3, $4) ON CONFLICT (kind, key) DO NOTHING`,
		t.kind, key, parent, body)
	if err != nil {
		return fmt.Errorf("insert %s %s: %w", t.kind, key, err)
	}
	t.s.committed(start)
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s %s: %w", t.kind, key, store.ErrExists)
	}
	return nil
}

func (t table[T]) Get(ctx context.Context, key string) (T, error) {
	var v T
	var body []byte
	err := t.s.pool.QueryRow(ctx, `SELECT body FROM records WHERE kind = $1 AND key = $2`, t.kind, key).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
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

// Update locks the row (SELECT ... FOR UPDATE) for the rest of its transaction, so an
// update of the same key from this process or another replica waits for it to commit.
// The transaction takes two round trips, not four: BEGIN goes with the SELECT, and the
// UPDATE with the COMMIT, each pair as one pipelined batch.
func (t table[T]) Update(ctx context.Context, key string, fn func(*T) error) (T, error) {
	var v T
	select {
	case t.s.updates <- struct{}{}:
		defer func() { <-t.s.updates }()
	case <-ctx.Done():
		return v, fmt.Errorf("update %s %s: %w", t.kind, key, ctx.Err())
	}
	start := time.Now()
	conn, err := t.s.pool.Acquire(ctx)
	if err != nil {
		return v, fmt.Errorf("update %s %s: %w", t.kind, key, err)
	}
	// A connection left inside a transaction is closed by the pool, never reused; rolling
	// back keeps it, after fn refused the change.
	defer conn.Release()
	rollback := func() { conn.Exec(ctx, `ROLLBACK`) }

	var body []byte
	read := &pgx.Batch{}
	read.Queue(`BEGIN`)
	read.Queue(`SELECT body FROM records WHERE kind = $1 AND key = $2 FOR UPDATE`, t.kind, key).QueryRow(func(row pgx.Row) error {
		return row.Scan(&body)
	})
	if err := conn.SendBatch(ctx, read).Close(); err != nil {
		rollback()
		if errors.Is(err, pgx.ErrNoRows) {
			return v, fmt.Errorf("%s %s: %w", t.kind, key, store.ErrNotFound)
		}
		return v, fmt.Errorf("get %s %s: %w", t.kind, key, err)
	}
	if err := json.Unmarshal(body, &v); err != nil {
		rollback()
		return v, fmt.Errorf("decode %s %s: %w", t.kind, key, err)
	}
	if err := fn(&v); err != nil {
		rollback()
		return v, err
	}
	if body, err = json.Marshal(v); err != nil {
		rollback()
		return v, fmt.Errorf("encode %s %s: %w", t.kind, key, err)
	}
	write := &pgx.Batch{}
	write.Queue(`UPDATE records SET body = $1 WHERE kind = $2 AND key = $3`, body, t.kind, key)
	write.Queue(`COMMIT`).Exec(func(tag pgconn.CommandTag) error {
		if tag.String() != "COMMIT" { // a failed transaction's COMMIT answers ROLLBACK
			return fmt.Errorf("commit answered %s", tag)
		}
		return nil
	})
	if err := conn.SendBatch(ctx, write).Close(); err != nil {
		rollback()
		return v, fmt.Errorf("update %s %s: %w", t.kind, key, err)
	}
	t.s.committed(start)
	return v, nil
}

func (t table[T]) Delete(ctx context.Context, key string) error {
	start := time.Now()
	tag, err := t.s.pool.Exec(ctx, `DELETE FROM records WHERE kind = $1 AND key = $2`, t.kind, key)
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", t.kind, key, err)
	}
	t.s.committed(start)
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s %s: %w", t.kind, key, store.ErrNotFound)
	}
	return nil
}

// A page token is tokenPrefix and the sequence number of the page's last record.
const tokenPrefix = "p"

// List pages by the records' sequence numbers, which follow creation order. Numbers are
// taken when a row is inserted, and concurrent inserts may commit out of that order, so a
// record created while a listing pages on may be left out of it; a record that existed
// when the listing began never is.
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
	var limit *int64 // LIMIT NULL is no limit
	if q.Limit > 0 {
		n := int64(q.Limit) + 1 // one more tells whether another page follows
		limit = &n
	}
	sql := `SELECT seq, body FROM records WHERE kind = $1 AND seq > $2 ORDER BY seq LIMIT $3`
	args := []any{t.kind, after, limit}
	if q.Parent != "" {
		sql = `SELECT seq, body FROM records WHERE kind = $1 AND parent = $4 AND seq > $2 ORDER BY seq LIMIT $3`
		args = append(args, q.Parent)
	}
	rows, err := t.s.pool.Query(ctx, sql, args...)
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
