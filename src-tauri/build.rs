fn main() {
    // Sources live in src-tauri/ while Cargo.toml and tauri.conf.json sit at the root.
    tauri_build::try_build(tauri_build::Attributes::new().capabilities_path_pattern("./src-tauri/capabilities/**/*"))
        .expect("tauri build step failed");
}
