# aliyun_sas_exporter: build on Debian 12, run as a non-root user.
#   docker build -t aliyun_sas_exporter .
#   docker run -p 10075:10075 -v $PWD/aliyun_sas_exporter.toml:/etc/aliyun_sas_exporter/aliyun_sas_exporter.toml:ro aliyun_sas_exporter

FROM debian:12 AS build
WORKDIR /src
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps --build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DSAS_BUILD_TESTS=OFF \
      -DSAS_BUILD_BENCHMARKS=OFF \
 && cmake --build /build -j "$(nproc)" --target aliyun_sas_exporter aliyun_sas_simulator \
 && strip /build/src/aliyun_sas_exporter /build/src/simulator/aliyun_sas_simulator

FROM debian:12-slim
COPY scripts/install-deps /usr/local/lib/aliyun_sas_exporter/install-deps
RUN /usr/local/lib/aliyun_sas_exporter/install-deps --runtime \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10075 --no-create-home --shell /usr/sbin/nologin exporter \
 && mkdir -p /etc/aliyun_sas_exporter /var/lib/aliyun_sas_exporter \
 && chown 10075:10075 /var/lib/aliyun_sas_exporter
COPY --from=build /build/src/aliyun_sas_exporter /usr/local/bin/
COPY --from=build /build/src/simulator/aliyun_sas_simulator /usr/local/bin/
COPY config/aliyun_sas_exporter.toml /etc/aliyun_sas_exporter/aliyun_sas_exporter.toml
USER 10075:10075
EXPOSE 10075
ENTRYPOINT ["/usr/local/bin/aliyun_sas_exporter"]
VOLUME /var/lib/aliyun_sas_exporter
CMD ["--config.file=/etc/aliyun_sas_exporter/aliyun_sas_exporter.toml", \
     "--storage.path=/var/lib/aliyun_sas_exporter"]
