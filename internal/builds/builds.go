// Package builds moves game server builds: zipping a directory, uploading the archive to a
// Hoist server, and unpacking one safely on a host.
package builds

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// UploadPath is where a build's archive is uploaded (PUT, SigV4-signed like the API) and
// downloaded by host agents (GET, with their compute's auth token): UploadPath + build ID.
const UploadPath = "/hoist/builds/"

// Zip archives every file under dir, keeping modes (executables stay executable).
func Zip(dir string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		hdr, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		hdr.Name, hdr.Method = filepath.ToSlash(rel), zip.Deflate
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("zip %s: %w", dir, err)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Unzip unpacks an archive into dir, refusing entries that would land outside it.
// It returns the bytes written.
func Unzip(archive io.ReaderAt, size int64, dir string) (int64, error) {
	zr, err := zip.NewReader(archive, size)
	if err != nil {
		return 0, fmt.Errorf("read build archive: %w", err)
	}
	var total int64
	for _, f := range zr.File {
		target := filepath.Join(dir, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(target, filepath.Clean(dir)+string(filepath.Separator)) {
			return total, fmt.Errorf("build archive entry %q points outside the build", f.Name)
		}
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return total, err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return total, err
		}
		n, err := extract(f, target)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func extract(f *zip.File, target string) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, f.Mode().Perm()|0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, rc)
	return n, errors.Join(err, out.Close())
}

// Upload puts a build's archive on the server, signed with the API's credentials. The
// archive's SHA-256 travels in the signed X-Amz-Content-Sha256 header, so the server can
// check the signature before it reads the archive.
func Upload(ctx context.Context, endpoint, region, buildID string, creds aws.Credentials, archive []byte) error {
	return UploadWithProgress(ctx, endpoint, region, buildID, creds, archive, nil)
}

// UploadWithProgress is Upload that calls progress (when not nil) with the bytes sent so
// far as the archive goes out.
func UploadWithProgress(ctx context.Context, endpoint, region, buildID string, creds aws.Credentials, archive []byte, progress func(sent int64)) error {
	url := strings.TrimSuffix(endpoint, "/") + UploadPath + buildID
	var body io.Reader = bytes.NewReader(archive)
	if progress != nil {
		body = &countingReader{r: body, progress: progress}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, body)
	if err != nil {
		return err
	}
	req.ContentLength = int64(len(archive))
	req.Header.Set("Content-Type", "application/zip")
	sum := sha256.Sum256(archive)
	payloadHash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, payloadHash, "gamelift", region, time.Now()); err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("upload build %s: %w", buildID, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("upload build %s: %d %s", buildID, resp.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}

// countingReader reports how much has been read through it.
type countingReader struct {
	r        io.Reader
	n        int64
	progress func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.progress(c.n)
	return n, err
}

// ZipFiles archives files, and every file under directories, by their absolute paths; a
// path that cannot be read is skipped. It fails only when nothing could be read.
func ZipFiles(paths []string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	added := 0
	for _, root := range paths {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			f, err := os.Open(path)
			if err != nil {
				return nil
			}
			defer f.Close()
			w, err := zw.Create(strings.TrimPrefix(filepath.ToSlash(path), "/"))
			if err != nil {
				return err
			}
			if _, err := io.Copy(w, f); err == nil {
				added++
			}
			return nil
		})
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if added == 0 {
		return nil, errors.New("none of the log paths could be read on this host")
	}
	return buf.Bytes(), nil
}
