# aliyun_sas_exporter on Debian 12: the programs are built in one stage and
# copied into a slim one that holds only their runtime libraries.
#   docker build -t aliyun_sas_exporter .
#   docker run -p 10075:10075 \
#     -e ALIBABA_CLOUD_ACCESS_KEY_ID -e ALIBABA_CLOUD_ACCESS_KEY_SECRET \
#     -v $PWD/tasks.d:/etc/aliyun_sas_exporter/tasks.d:ro aliyun_sas_exporter
# The default configuration (deploy/aliyun_sas_exporter.toml) starts as it
# is, with the default credential chain; mount your own over
# /etc/aliyun_sas_exporter/aliyun_sas_exporter.toml. The `simulator` target
# is the Security Center simulator (deploy/docker-compose.yml uses it).
# HEALTHCHECK asks the default listen address: when --web.listen-address
# changes, pass the same flag to --healthcheck (docker run --health-cmd).

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps --build && rm -rf /var/lib/apt/lists/*
COPY . .
# CCACHE_DIR may be a volume of the build (`podman build -v`), which makes
# rebuilds fast; without one ccache just finds an empty cache.
ENV CCACHE_DIR=/ccache
# ON in `make test-image`, as in CI's other builds.
ARG SAS_WERROR=OFF
RUN cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release \
      -DSAS_WERROR=${SAS_WERROR} -DSAS_BUILD_TESTS=OFF -DSAS_BUILD_BENCHMARKS=OFF > /dev/null \
 && cmake --build build-release -j "$(nproc)" \
      --target programs \
 && strip build-release/src/aliyun_sas_exporter \
      build-release/src/simulator/aliyun_sas_simulator

FROM debian:bookworm-slim AS runtime
COPY scripts/install-deps /tmp/install-deps
RUN /tmp/install-deps --runtime \
 && rm -rf /var/lib/apt/lists/* /tmp/install-deps \
 && adduser --system --group --uid 10075 --no-create-home \
      --home /var/lib/aliyun_sas_exporter aliyun_sas_exporter \
 && install -d -o aliyun_sas_exporter -g aliyun_sas_exporter \
      /var/lib/aliyun_sas_exporter \
 && install -d /etc/aliyun_sas_exporter/tasks.d

FROM runtime AS simulator
COPY --from=build /src/build-release/src/simulator/aliyun_sas_simulator /usr/bin/
USER 10075:10075
EXPOSE 10076
ENTRYPOINT ["/usr/bin/aliyun_sas_simulator"]

FROM runtime AS exporter
COPY --from=build /src/build-release/src/aliyun_sas_exporter /usr/bin/
COPY deploy/aliyun_sas_exporter.toml /etc/aliyun_sas_exporter/
USER 10075:10075
EXPOSE 10075
VOLUME /var/lib/aliyun_sas_exporter
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["/usr/bin/aliyun_sas_exporter", "--healthcheck"]
ENTRYPOINT ["/usr/bin/aliyun_sas_exporter"]
CMD ["--config.file=/etc/aliyun_sas_exporter/aliyun_sas_exporter.toml", \
     "--storage.path=/var/lib/aliyun_sas_exporter"]
