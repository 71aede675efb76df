# moim server image. The install step builds the mediasoup worker from source with Debian's
# libraries (scripts/mediasoup/build-worker.sh), so no prebuilt binary is downloaded.
FROM node:24-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      g++ make pkg-config python3 python3-pip libssl-dev libuv1-dev libsrtp2-dev libusrsctp-dev \
      libabsl-dev libflatbuffers-dev flatbuffers-compiler ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN npm ci && npm run build
ENV MOIM_ENV=production HOST=0.0.0.0 PORT=3000 MOIM_DATA_DIR=/data
EXPOSE 3000 40000-40001/udp 40000-40001/tcp
VOLUME /data
CMD ["npm", "start"]
