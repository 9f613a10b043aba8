//! The key-value service, server and client in one process over a Unix socket: a few calls
//! (each with a 2 s deadline), then a graceful shutdown, and how each connection ended.
//!
//! ```sh
//! cargo run -p kv-ipc
//! ```

use std::time::Duration;

use kv_ipc::{Client, Op, Put, Server, Settings};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("kv-ipc-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("kv.sock");
    let server = Server::bind(&path, Settings::default())?;
    let shutdown = server.shutdown_handle();
    let running = std::thread::spawn(move || server.run());

    let mut client = Client::connect(&path, Duration::from_secs(2))?;
    let put = |key: &str, value: &str| {
        Op::Put(Put {
            key: key.into(),
            value: value.as_bytes().to_vec(),
        })
    };
    for op in [
        put("lang", "rust"),
        Op::Get("lang".into()),
        put("lang", "rust 2021"),
        Op::Delete("lang".into()),
        Op::Get("lang".into()),
    ] {
        let shown = format!("{op:?}");
        let answer = client.call(op)?;
        let answer = answer.map(|v| String::from_utf8_lossy(&v).into_owned());
        println!("{shown:<60} -> {answer:?}");
    }
    drop(client);

    shutdown.shutdown()?;
    for (i, ended) in running
        .join()
        .expect("the server thread")?
        .iter()
        .enumerate()
    {
        println!(
            "connection {i}: {} answered, {:?}",
            ended.answered, ended.how
        );
    }
    std::fs::remove_dir(&dir)?;
    Ok(())
}
