package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hoist-dev/hoist/internal/awsproto"
	"github.com/hoist-dev/hoist/internal/builds"
	"github.com/hoist-dev/hoist/internal/buildsvc"
	"github.com/hoist-dev/hoist/internal/gamelift"
)

// maxBuildBytes bounds an uploaded build archive (GameLift's own limit is 5 GB).
const maxBuildBytes = 5 << 30

// buildFiles serves build archives: PUT uploads one (SigV4, like the API), GET hands it to
// a host agent of a fleet that runs it (authenticated by the compute's token).
type buildFiles struct {
	svc *buildsvc.Service
	api *awsproto.Server
	dir string // where uploads are received: the directory of buildsvc.Dir, to be kept by a rename
	log *slog.Logger
}

func (b buildFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, builds.UploadPath)
	if !strings.HasPrefix(id, "build-") || strings.ContainsAny(id, "/\\.") {
		writeError(w, b.log, gamelift.NotFound("no build %q", id))
		return
	}
	switch r.Method {
	case http.MethodPut:
		build, err := b.upload(w, r, id)
		if err != nil {
			writeError(w, b.log, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"Build": build})
	case http.MethodGet:
		q := r.URL.Query()
		path, err := b.svc.ArchiveFor(r.Context(), id, q.Get("FleetId"), q.Get("ComputeName"), q.Get("AuthToken"))
		if err != nil {
			writeError(w, b.log, err)
			return
		}
		// The caller is authenticated: an archive of gigabytes may take long to send.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
		w.Header().Set("Content-Type", "application/zip")
		http.ServeFile(w, r, path)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// upload authenticates the request from its headers, then streams the body to a file
// while hashing it, and gives the file to the service if the body is the one signed for.
// The signature covers the body's declared SHA-256 (X-Amz-Content-Sha256), so nothing is
// read, let alone written, for a request not signed with the API's keys. Uploading is the
// second half of making a build, so the key must be allowed CreateBuild.
func (b buildFiles) upload(w http.ResponseWriter, r *http.Request, id string) (gamelift.Build, error) {
	declared, err := b.api.VerifyDeclaredPayload(r.Context(), r, "CreateBuild")
	if err != nil {
		return gamelift.Build{}, err
	}
	switch {
	case r.ContentLength < 0:
		return gamelift.Build{}, errLengthRequired
	case r.ContentLength > maxBuildBytes:
		return gamelift.Build{}, gamelift.InvalidRequest("build archive over %d bytes", int64(maxBuildBytes))
	}
	if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return gamelift.Build{}, err
	}
	tmp, err := os.CreateTemp(b.dir, "upload-*.zip")
	if err != nil {
		return gamelift.Build{}, err
	}
	defer os.Remove(tmp.Name())
	// An authenticated upload may take long; it must keep moving.
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), progressReader{r: r.Body, rc: rc, idle: uploadIdleTimeout})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return gamelift.Build{}, gamelift.Serialization("read build archive: %v", err)
	}
	if n != r.ContentLength {
		return gamelift.Build{}, gamelift.Serialization("build archive is %d bytes, not the %d of its Content-Length", n, r.ContentLength)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != declared {
		return gamelift.Build{}, gamelift.InvalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return b.svc.StoreArchive(r.Context(), id, filepath.Clean(tmp.Name()))
}

// uploadIdleTimeout is how long an authenticated upload may send nothing.
const uploadIdleTimeout = time.Minute

var errLengthRequired = &gamelift.Error{Code: "MissingContentLength", Message: "uploads need a Content-Length", Status: http.StatusLengthRequired}

// progressReader reads a request body whose connection's read deadline moves idle ahead
// before each read: a slow body may take as long as it keeps moving.
type progressReader struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
}

func (p progressReader) Read(b []byte) (int, error) {
	_ = p.rc.SetReadDeadline(time.Now().Add(p.idle))
	return p.r.Read(b)
}

// writeError answers err as the API does; an error that is no GameLift exception is a
// fault of ours, logged here and answered without its details.
func writeError(w http.ResponseWriter, log *slog.Logger, err error) {
	var known *gamelift.Error
	if !errors.As(err, &known) {
		log.Error("request failed", "error", err)
	}
	e := gamelift.AsError(err)
	status := e.Status
	switch e.Code {
	case "UnauthorizedException":
		status = http.StatusUnauthorized
	case "NotFoundException":
		status = http.StatusNotFound
	case "ConflictException":
		status = http.StatusConflict
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
}
