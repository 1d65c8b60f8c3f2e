# The local receiver as a container, for running in-cluster next to the workloads (infra/kubernetes/).
# Build: docker build -t kube-audit-relay:0.1.0 .
# The image runs compiled JavaScript as uid 65532 and writes nothing but stdout, so it starts under
# runAsNonRoot, readOnlyRootFilesystem and with every capability dropped (test/e2e/compiled-bin.test.ts starts it so).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts
COPY src ./src
RUN npm run build

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin ./bin
COPY --from=build /app/dist ./dist
# serve --detect and detect read the shipped rule source; cost reads the dated prices.
COPY detections/rules.yaml ./detections/rules.yaml
COPY prices ./prices
# Numeric, so the kubelet can check runAsNonRoot without an /etc/passwd lookup; the uid owns no file in the image.
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["node", "bin/kube-audit-relay.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8443"]
