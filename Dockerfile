# Build a static binary, then ship it alone on a distroless base: bbolt is
# pure Go, so nothing else is needed at run time.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/portabot .
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/portabot /portabot
COPY --from=build --chown=nonroot:nonroot /out/data /data
ENV PORTABOT_DB=/data/portabot.db \
    PORTABOT_ADDR=:8080
VOLUME /data
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/portabot"]
CMD ["serve"]
