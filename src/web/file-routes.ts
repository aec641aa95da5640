/**
 * The routes that take files: the compose posts of both sides (a new question, a question draft, a reply).
 * Only these read a multipart body (src/app.ts mounts the parser on them); any other route answers a
 * multipart post without reading it (the CSRF check finds no token: 403).
 */
export const FILE_ROUTES = [
  "/ps/conversations",
  "/ps/drafts/:draftId",
  "/ps/conversations/:conversationId/messages",
  "/bo/conversations",
  "/bo/drafts/:draftId",
  "/bo/conversations/:conversationId/messages",
];
