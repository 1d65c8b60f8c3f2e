# The local receiver as a container, for running in-cluster next to the workloads (infra/kubernetes/).
# Build: docker build -t kube-audit-relay:0.1.0 .
FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# tsx is a runtime dependency: the CLI runs its TypeScript directly, so there is no build step.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin ./bin
COPY src ./src
# serve --detect and detect read the shipped rule source.
COPY detections/rules.yaml ./detections/rules.yaml
USER node
EXPOSE 8443
ENTRYPOINT ["node", "bin/kube-audit-relay.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8443"]
