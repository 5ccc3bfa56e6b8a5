package dockerconfig

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile writes Marshal's bytes to path atomically: into a temporary file in the same
// directory (mode 0600), fsync, rename over path, fsync the directory. Readers see the old
// file or the new one, never a part. A missing parent directory is created with mode 0700.
// When path is a symlink the file it points to is replaced and the link kept, as docker
// does. On any error the old file is left as it was.
func (c *Config) WriteFile(path string) error {
	data, err := c.Marshal()
	if err != nil {
		return err
	}
	return writeFileAtomic(path, data)
}

func writeFileAtomic(path string, data []byte) (err error) {
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("dockerconfig: write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("dockerconfig: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("dockerconfig: write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("dockerconfig: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("dockerconfig: write %s: fsync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("dockerconfig: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("dockerconfig: write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil { // make the rename durable; best effort
		d.Sync()
		d.Close()
	}
	return nil
}

// DefaultPath is the config file docker uses: $DOCKER_CONFIG/config.json when
// DOCKER_CONFIG is set, else ~/.docker/config.json.
func DefaultPath() (string, error) {
	if dir := os.Getenv("DOCKER_CONFIG"); dir != "" {
		return filepath.Join(dir, "config.json"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", errors.New("dockerconfig: no config path: neither $DOCKER_CONFIG nor a home directory is set")
	}
	return filepath.Join(home, ".docker", "config.json"), nil
}
