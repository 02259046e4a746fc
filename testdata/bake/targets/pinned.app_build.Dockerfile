ARG RUNTIME=scratch
FROM builder AS build
COPY --from=assets . /src
RUN make -C /src
FROM node:22-alpine@sha256:22c1edb32d80d7d5460fa55063156af7fa5daa79bf932170a06e30c9d8fbb09f AS docs
COPY --from=build /src/docs /docs
FROM ${RUNTIME}
COPY --from=build /src/bin/app /app
