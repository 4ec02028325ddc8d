# Multi-stage build: a static binary on a distroless base, running as a
# non-root user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/leitai ./cmd/leitai \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/leitai /leitai
COPY --from=build /src/examples /examples
COPY --from=build --chown=65532:65532 /out/data /data
USER nonroot:nonroot
ENV LEITAI_ADDR=:8080 LEITAI_DATA_DIR=/data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD ["/leitai", "health"]
ENTRYPOINT ["/leitai"]
