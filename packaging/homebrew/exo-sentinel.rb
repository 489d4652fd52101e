# Homebrew formula for the headless daemon and the CLI (the menu-bar app is the cask exo-sentinel-app.rb).
# In a tap: Formula/exo-sentinel.rb. `node scripts/homebrew-bump.mjs` sets version and sha256 at a release.
class ExoSentinel < Formula
  desc "Watchdog for Apple Silicon Macs running EXO distributed inference"
  homepage "https://github.com/exo-sentinel/exo-sentinel"
  url "https://github.com/exo-sentinel/exo-sentinel/archive/refs/tags/v0.1.0.tar.gz"
  sha256 "0000000000000000000000000000000000000000000000000000000000000000"
  license "MIT"

  depends_on "node"

  def install
    # Homebrew's Node runs everything: not the project's own Node package, not Electron (the app is the cask).
    ENV["ELECTRON_SKIP_BINARY_DOWNLOAD"] = "1"
    system "npm", "ci", "--omit=optional", "--no-audit", "--no-fund"
    system "npx", "tsc", "-p", "tsconfig.build.json"
    system "node", "scripts/copy-assets.mjs"
    system "node", "scripts/build-renderer.mjs"
    system "npm", "prune", "--omit=dev", "--omit=optional"
    libexec.install "dist", "node_modules", "package.json", "assets"
    (bin/"exo-sentinel").write_env_script libexec/"dist/main/headless/cli.js",
                                          PATH: "#{Formula["node"].opt_bin}:$PATH"
  end

  def caveats
    <<~EOS
      The daemon logs to ~/Library/Logs/exo-sentinel/exo-sentinel.log (rotated at 10 MB, 7 kept).
      Its dashboard is at http://127.0.0.1:52417/ and its guard at http://127.0.0.1:52416.
      Point EXO clients at the guard to get admission control.
    EOS
  end

  # brew services: a launchd agent in the login session (desktop notifications work there). stdout and
  # stderr are not kept: the daemon writes its own rotated log.
  service do
    run [opt_bin/"exo-sentinel", "daemon"]
    keep_alive successful_exit: false
    process_type :standard
  end

  test do
    assert_match version.to_s, shell_output("#{bin}/exo-sentinel --version")
    assert_match "exo-sentinel", shell_output("#{bin}/exo-sentinel --help")
  end
end
