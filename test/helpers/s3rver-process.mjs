// An s3rver in a process of its own, for test/helpers/s3-server.ts: started with --openssl-legacy-provider, since
// s3rver 3.7 makes its ListObjectsV2 continuation tokens with DES, which Node 20's OpenSSL 3 refuses otherwise (a
// listing longer than one page would fail). Prints its port; ends with its parent (stdin closed) or on SIGTERM.
import S3rver from "s3rver";

const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: process.argv[2] });
const { port } = await server.run();
process.stdout.write(`${port}\n`);
const stop = () => {
  server.httpServer.closeAllConnections();
  void server.close().finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.stdin.on("end", stop);
process.stdin.resume();
