# The sample app alone, without the http-tests stage of Dockerfile: the
# localnode of the several-image checks is built from it, so a runner stage
# they take from rpcnode's Dockerfile cannot come from localnode's.
ARG BASE=docker.io/library/busybox:1.36.1@sha256:73aaf090f3d85aa34ee199857f03fa3a95c8ede2ffd4cc2cdb5b94e566b11662
FROM ${BASE}
ARG VARIANT=base
COPY test.sh start.sh serve.sh /app/
RUN chmod 0755 /app/test.sh /app/start.sh /app/serve.sh && echo "$VARIANT" > /app/variant
HEALTHCHECK --interval=1s CMD test -f /tmp/ready
CMD ["/app/start.sh"]
