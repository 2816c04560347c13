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

	"github.com/hoist-dev/hoist/internal/awsproto"
	"github.com/hoist-dev/hoist/internal/builds"
	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
)

// maxBuildBytes bounds an uploaded build archive (GameLift's own limit is 5 GB).
const maxBuildBytes = 5 << 30

// buildFiles serves build archives: PUT uploads one (SigV4, like the API), GET hands it to
// a host agent of a fleet that runs it (authenticated by the compute's token).
type buildFiles struct {
	svc *control.Service
	api *awsproto.Server
	dir string
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
		build, err := b.upload(r, id)
		if err != nil {
			writeError(w, b.log, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"Build": build})
	case http.MethodGet:
		q := r.URL.Query()
		path, err := b.svc.BuildArchiveFor(r.Context(), id, q.Get("FleetId"), q.Get("ComputeName"), q.Get("AuthToken"))
		if err != nil {
			writeError(w, b.log, err)
			return
		}
		w.Header().Set("Content-Type", "application/zip")
		http.ServeFile(w, r, path)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// upload streams the body to a file while hashing it, checks the signature over that hash,
// and gives the file to the service.
func (b buildFiles) upload(r *http.Request, id string) (gamelift.Build, error) {
	if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return gamelift.Build{}, err
	}
	tmp, err := os.CreateTemp(b.dir, "upload-*.zip")
	if err != nil {
		return gamelift.Build{}, err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), http.MaxBytesReader(nil, r.Body, maxBuildBytes))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return gamelift.Build{}, gamelift.InvalidRequest("build archive over %d bytes", int64(maxBuildBytes))
		}
		return gamelift.Build{}, gamelift.Serialization("read build archive: %v", err)
	}
	if err := b.api.Verify(r.Context(), r, hex.EncodeToString(h.Sum(nil))); err != nil {
		return gamelift.Build{}, err
	}
	return b.svc.StoreBuild(r.Context(), id, filepath.Clean(tmp.Name()))
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
