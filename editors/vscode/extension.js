// Starts `sdbc lsp` for .sdb files.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("sdb").get("server.path") || "sdbc";
  const server = { command, args: ["lsp"] };
  client = new LanguageClient(
    "sdb",
    "sdb language server",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "sdb" }] }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
