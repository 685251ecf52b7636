// The migrations are compiled into the server: build it again when one is
// added or changed.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
