# Homebrew cask for the menu-bar app (the dmg built by electron-builder; the zip feeds the in-app updater).
# In a tap: Casks/exo-sentinel-app.rb. `node scripts/homebrew-bump.mjs` sets version and sha256 at a release.
cask "exo-sentinel-app" do
  version "0.1.0"
  sha256 "0000000000000000000000000000000000000000000000000000000000000000"

  url "https://github.com/exo-sentinel/exo-sentinel/releases/download/v#{version}/exo-sentinel-#{version}-arm64.dmg"
  name "exo-sentinel"
  desc "Menu-bar watchdog for Macs running EXO distributed inference"
  homepage "https://github.com/exo-sentinel/exo-sentinel"

  livecheck do
    url :url
    strategy :github_latest
  end

  # The app updates itself from the release's zip (electron-updater).
  auto_updates true
  depends_on arch: :arm64
  depends_on macos: ">= :ventura"

  app "exo-sentinel.app"

  uninstall quit: "dev.exo-sentinel.menubar"

  zap trash: [
    "~/Library/Application Support/exo-sentinel",
    "~/Library/Caches/exo-sentinel-updater",
    "~/Library/Logs/exo-sentinel",
    "~/Library/Preferences/dev.exo-sentinel.menubar.plist",
  ]
end
