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
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// Store is a store.Store in one SQLite file.
type Store struct {
	write     *sql.DB // one connection: SQLite has one writer at a time
	read      *sql.DB // a pool of read-only connections; WAL lets them read while a write runs
	writes    chan writeOp
	closing   chan struct{} // closed by Close: no more writes are taken
	done      chan struct{} // closed by the committer when it has stopped
	closeOnce sync.Once
	closeErr  error
	stmts     statements
	onCommit  atomic.Pointer[func(time.Duration)]
}

// ObserveCommits has fn told how long each commit took, from the start of its
// transaction to the end of its fsync: one call per batch of writes.
func (s *Store) ObserveCommits(fn func(time.Duration)) { s.onCommit.Store(&fn) }

// statements are prepared once: SQLite then parses each statement once per connection,
// not once per write.
type statements struct {
	savepoint, release, rollbackTo, nextSeq, insert, selectBody, update, delete *sql.Stmt // writer
	get                                                                         *sql.Stmt // readers
}

func (s *Store) prepare(ctx context.Context) error {
	for _, p := range []struct {
		db  *sql.DB
		dst **sql.Stmt
		sql string
	}{
		{s.write, &s.stmts.savepoint, `SAVEPOINT op`},
		{s.write, &s.stmts.release, `RELEASE op`},
		{s.write, &s.stmts.rollbackTo, `ROLLBACK TO op`},
		{s.write, &s.stmts.nextSeq, `UPDATE sequence SET next = next + 1 RETURNING next - 1`},
		{s.write, &s.stmts.insert, `INSERT INTO records (kind, key, parent, seq, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, key) DO NOTHING`},
		{s.write, &s.stmts.selectBody, `SELECT body FROM records WHERE kind = ? AND key = ?`},
		{s.write, &s.stmts.update, `UPDATE records SET body = ? WHERE kind = ? AND key = ?`},
		{s.write, &s.stmts.delete, `DELETE FROM records WHERE kind = ? AND key = ?`},
		{s.read, &s.stmts.get, `SELECT body FROM records WHERE kind = ? AND key = ?`},
	} {
		stmt, err := p.db.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", p.sql, err)
		}
		*p.dst = stmt
	}
	return nil
}

// ErrClosed is returned for a write after Close.
var ErrClosed = errors.New("sqlite: store is closed")

// writeOp is one write, run by the committer inside a shared transaction.
type writeOp struct {
	fn     func(tx *sql.Tx) error
	result chan error
}

// maxBatch bounds how many writes share one commit.
const maxBatch = 128

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
	s := &Store{write: write, read: read, writes: make(chan writeOp), closing: make(chan struct{}), done: make(chan struct{})}
	if err := s.prepare(ctx); err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	go s.commit()
	return s, nil
}

// commit is group commit: it takes every write waiting, runs each in its own savepoint of
// one transaction (a write that fails is rolled back alone), commits once, with one fsync
// for all, and only then answers each. No write is acknowledged before it is durable.
func (s *Store) commit() {
	defer close(s.done)
	for {
		var batch []writeOp
		select {
		case op := <-s.writes:
			batch = append(batch, op)
		case <-s.closing:
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case op := <-s.writes:
				batch = append(batch, op)
			default:
				break more
			}
		}
		s.runBatch(batch)
	}
}

func (s *Store) runBatch(batch []writeOp) {
	ctx := context.Background()
	results := make([]error, len(batch))
	start := time.Now()
	tx, err := s.write.BeginTx(ctx, nil)
	if err == nil {
		for i, op := range batch {
			results[i] = s.savepoint(ctx, tx, op.fn)
		}
		err = tx.Commit()
	}
	if fn := s.onCommit.Load(); fn != nil && err == nil {
		(*fn)(time.Since(start))
	}
	for i, op := range batch {
		if err != nil {
			results[i] = fmt.Errorf("commit: %w", err)
		}
		op.result <- results[i]
	}
}

func (s *Store) savepoint(ctx context.Context, tx *sql.Tx, fn func(*sql.Tx) error) error {
	if _, err := tx.StmtContext(ctx, s.stmts.savepoint).ExecContext(ctx); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		if _, rerr := tx.StmtContext(ctx, s.stmts.rollbackTo).ExecContext(ctx); rerr != nil {
			return errors.Join(err, rerr)
		}
		tx.StmtContext(ctx, s.stmts.release).ExecContext(ctx)
		return err
	}
	_, err := tx.StmtContext(ctx, s.stmts.release).ExecContext(ctx)
	return err
}

// exec runs fn as one write and returns when it is durable (or failed). A write the
// committer took is always finished, even if Close comes meanwhile.
func (s *Store) exec(fn func(tx *sql.Tx) error) error {
	result := make(chan error, 1)
	select {
	case s.writes <- writeOp{fn: fn, result: result}:
		return <-result
	case <-s.closing:
		return ErrClosed
	}
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

// Close finishes the writes under way and closes the database; later writes get
// ErrClosed. Closing twice is harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		<-s.done
		s.closeErr = errors.Join(s.read.Close(), s.write.Close())
	})
	return s.closeErr
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
	return t.s.exec(func(tx *sql.Tx) error {
		var seq int64
		if err := tx.StmtContext(ctx, t.s.stmts.nextSeq).QueryRowContext(ctx).Scan(&seq); err != nil {
			return fmt.Errorf("next sequence: %w", err)
		}
		res, err := tx.StmtContext(ctx, t.s.stmts.insert).ExecContext(ctx, t.kind, key, parent, seq, body)
		if err != nil {
			return fmt.Errorf("insert %s %s: %w", t.kind, key, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%s %s: %w", t.kind, key, store.ErrExists)
		}
		return nil
	})
}

func (t table[T]) Get(ctx context.Context, key string) (T, error) {
	var v T
	var body []byte
	err := t.s.stmts.get.QueryRowContext(ctx, t.kind, key).Scan(&body)
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
	err := t.s.exec(func(tx *sql.Tx) error {
		var zero T
		v = zero
		var body []byte
		err := tx.StmtContext(ctx, t.s.stmts.selectBody).QueryRowContext(ctx, t.kind, key).Scan(&body)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s %s: %w", t.kind, key, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("get %s %s: %w", t.kind, key, err)
		}
		if err := json.Unmarshal(body, &v); err != nil {
			return fmt.Errorf("decode %s %s: %w", t.kind, key, err)
		}
		if err := fn(&v); err != nil {
			return err
		}
		if body, err = json.Marshal(v); err != nil {
			return fmt.Errorf("encode %s %s: %w", t.kind, key, err)
		}
		if _, err := tx.StmtContext(ctx, t.s.stmts.update).ExecContext(ctx, body, t.kind, key); err != nil {
			return fmt.Errorf("update %s %s: %w", t.kind, key, err)
		}
		return nil
	})
	return v, err
}

func (t table[T]) Delete(ctx context.Context, key string) error {
	return t.s.exec(func(tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, t.s.stmts.delete).ExecContext(ctx, t.kind, key)
		if err != nil {
			return fmt.Errorf("delete %s %s: %w", t.kind, key, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%s %s: %w", t.kind, key, store.ErrNotFound)
		}
		return nil
	})
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
