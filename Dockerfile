# The one `ticketing` binary, built in a Rust image and run in a small Debian one as a non-root
# user. The protobuf files Temporal needs are compiled by the crate itself (vendored-protox): no
# protoc, no other toolchain in the runtime image.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin ticketing \
    && cp target/release/ticketing /usr/local/bin/ticketing

FROM debian:bookworm-slim
# ca-certificates: TLS to Temporal Cloud, Stripe, NATS; curl: the compose file's health checks
# (api, worker, relay).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin ticketing
COPY --from=build /usr/local/bin/ticketing /usr/local/bin/ticketing
USER 10001
EXPOSE 3000 9464
ENTRYPOINT ["/usr/local/bin/ticketing"]
CMD ["serve"]
