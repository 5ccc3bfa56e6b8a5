// Package compose gets a Docker Compose project's images pulled with the credentials of the
// saved registries, without `docker login` and without touching the user's
// ~/.docker/config.json.
//
//   - Load reads a project with compose-go (several files merged in order, ${VAR}
//     interpolation from the environment and .env, extends, profiles) and lists the images
//     to pull, following the compose spec's pull_policy: services that only build, and
//     services with pull_policy build or never, are skipped (Project.Skipped says why); an
//     image that a service can also build is pulled, but its failure is not fatal
//     (Image.Buildable); pull_policy missing pulls only what the daemon lacks.
//   - PrePull pulls the images through the Docker Engine API with bounded concurrency, each
//     with its registry's credentials in X-Registry-Auth, reports progress through a
//     callback and returns one Result per image. One image failing (unknown registry,
//     missing image, refused credentials, registry down) never stops the others.
//   - WriteConfigDir writes an isolated DOCKER_CONFIG directory (0700, config.json 0600)
//     with exactly the entries the images need, for running `docker compose` or
//     `docker-compose` yourself; its cleanup function removes it.
//
// Credentials come from a Keychain: *keychain.Keychain maps each image to its saved
// registry; an image no saved registry matches is pulled anonymously (public images need
// nothing), and when that is refused its error says no saved registry matches its host.
//
// Errors: a compose file that cannot be read or is not YAML is a *FileError naming it (all
// bad files are reported at once); a failed image is a *PullError naming the image and its
// services and wrapping a registry sentinel (ErrUnauthorized, ErrForbidden, ErrNotFound,
// ErrUnavailable). Secrets never appear in errors. The package never prints; progress goes
// to the callback and an optional *slog.Logger.
package compose
