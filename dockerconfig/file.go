package dockerconfig

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/regcred/regcred/internal/atomicfile"
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
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("dockerconfig: write %s: %w", path, err)
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
