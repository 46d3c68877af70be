# syntax=docker/dockerfile:1.7
#
# Faro in a container: `docker build -t faro .`, then see docs/deploy.md.
# Needs BuildKit (the default builder of Docker 23+) for the cache mounts and COPY --chmod.

ARG RUST_IMAGE=rust:1.95-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------------------------
# Build. The whole workspace is copied (.dockerignore leaves out target/, .git, data/, ...):
# the release binary embeds everything it serves at compile time (askama templates, found
# through each crate's askama.toml, which may point into another crate; rust-embed assets and
# the fonts of the share card; the demo test; the SQL migrations via sqlx::migrate!), and every
# workspace member, bench/ included, must be present for cargo to load the workspace.
#
# Dependencies are cached with BuildKit cache mounts rather than a dependency-only layer: the
# registry and target/ survive between builds, so a source change recompiles only the
# workspace's own crates, and nothing here has to list the crates by name.
FROM ${RUST_IMAGE} AS builder
WORKDIR /src
COPY . .
RUN --mount=type=cache,id=faro-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=faro-cargo-git,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,id=faro-target,target=/src/target,sharing=locked \
    cargo build --release -p faro --locked \
 && install -D -m 0755 target/release/faro /out/faro

# ---------------------------------------------------------------------------------------------
# Run. Nothing is installed: the only C code in the binary is the bundled SQLite, so it needs
# just glibc and libgcc (both in the base image), and it makes no outbound TLS connections
# (sqlx and redis are built without TLS features), so ca-certificates is not needed either.
# bash is essential in Debian, so the health check below needs nothing extra.
FROM ${RUNTIME_IMAGE}

ARG FARO_UID=10001
RUN groupadd --system --gid "${FARO_UID}" faro \
 && useradd --system --uid "${FARO_UID}" --gid faro --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin faro \
 && mkdir -p /data \
 && chown faro:faro /data \
 && chmod 0750 /data

COPY --from=builder /out/faro /usr/local/bin/faro

# Health check without curl: `faro` has no probe subcommand, and curl would add a package and
# its libraries to the image only for this. bash's /dev/tcp speaks enough HTTP to ask
# GET /api/v1/ready (200 once the database answers, 503 otherwise) on the port of FARO_BIND.
COPY --chmod=0755 <<'EOF' /usr/local/bin/faro-healthcheck
#!/bin/bash
# Exit 0 when GET /api/v1/ready answers 200 on this container's FARO_BIND.
set -u
bind=${FARO_BIND:-127.0.0.1:8080}
port=${bind##*:}
host=${bind%:*}
host=${host#[}
host=${host%]}
case "$host" in 0.0.0.0 | :: | "") host=127.0.0.1 ;; esac
exec 3<>"/dev/tcp/${host}/${port}" || exit 1
printf 'GET /api/v1/ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
read -r -t 3 _ status _ <&3 || exit 1
[ "$status" = 200 ]
EOF

# DATABASE_URL is absolute so the SQLite file is on the volume whatever the working directory;
# WORKDIR / makes the built-in default (sqlite://data/faro.db) land there too.
# PUBLIC_BASE_URL would otherwise default to http://0.0.0.0:8080 in share links: set it to the
# address people use (docs/deploy.md).
ENV DATABASE_URL=sqlite:///data/faro.db \
    FARO_BIND=0.0.0.0:8080 \
    PUBLIC_BASE_URL=http://localhost:8080
WORKDIR /
USER ${FARO_UID}:${FARO_UID}
VOLUME ["/data"]
EXPOSE 8080

HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/faro-healthcheck"]

# faro is PID 1 and handles SIGTERM itself: it drains requests for up to REQUEST_TIMEOUT_SECS
# (15 s by default), longer than `docker stop`'s default 10 s; use `docker stop -t 20`.
ENTRYPOINT ["faro"]
CMD ["serve"]
