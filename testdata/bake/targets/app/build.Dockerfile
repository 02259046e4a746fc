ARG RUNTIME=scratch
FROM builder AS build
COPY --from=assets . /src
RUN make -C /src
FROM node:22-alpine AS docs
COPY --from=build /src/docs /docs
FROM ${RUNTIME}
COPY --from=build /src/bin/app /app
