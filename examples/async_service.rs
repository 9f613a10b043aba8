//! A request/response service on the tokio pair: a reader per connection that hands each
//! request, as owned `Bytes`, to a worker task that answers it; a client that pipelines its
//! requests and waits for each answer with a timeout; and a graceful shutdown that still
//! answers every request already received.
//!
//! A request is a 4-byte big-endian id and a body; the answer is the id, the body's length
//! and the sum of its bytes. A request with id `u32::MAX` asks the server to shut down.
//!
//! Large requests (2 MiB and 1 MiB here) are not copied: the reader hands the worker the
//! buffer it read them into, which stays charged to the server's `MemoryBudget` while the
//! worker holds it (the example prints the budget the worker sees).
//!
//! ```text
//! cargo run --example async_service --features tokio
//! ```

use std::time::Duration;

use bytes::Bytes;
use lenframe::tokio::{FrameReader, FrameWriter};
use lenframe::{FrameError, MemoryBudget};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The id of the request that shuts the server down.
const STOP: u32 = u32::MAX;

/// What a connection's reader did.
#[derive(Debug, Default)]
struct Served {
    /// Requests read while serving.
    read: usize,
    /// Requests already buffered at shutdown, handed to the worker by the drain.
    drained: usize,
}

/// Answers each request the reader hands over, flushing whenever no other request waits.
async fn worker(
    mut requests: mpsc::Receiver<Bytes>,
    mut writer: FrameWriter<OwnedWriteHalf>,
    budget: MemoryBudget,
) -> Result<(), FrameError> {
    while let Some(request) = requests.recv().await {
        let (id, body) = request.split_at(4);
        if body.len() >= 1 << 20 {
            println!(
                "worker holds a request of {} bytes; the budget has {} bytes charged",
                request.len(),
                budget.in_use()
            );
        }
        let sum: u64 = body.iter().map(|&b| u64::from(b)).sum();
        let mut answer = id.to_vec();
        answer.extend_from_slice(&(body.len() as u32).to_be_bytes());
        answer.extend_from_slice(&sum.to_be_bytes());
        writer.write_frame(&answer).await?;
        if requests.is_empty() {
            writer.flush().await?;
        }
    }
    writer.shutdown().await
}

/// Reads requests until the peer closes or the server shuts down, then drains the ones
/// already buffered: none that was received is dropped.
async fn serve(
    stream: TcpStream,
    shutdown: CancellationToken,
    budget: MemoryBudget,
) -> Result<Served, FrameError> {
    let (read, write) = stream.into_split();
    let mut reader = FrameReader::new(read);
    reader.set_frame_timeout(Some(Duration::from_secs(5)));
    reader.set_budget(Some(budget.clone()))?;
    let (to_worker, requests) = mpsc::channel(64);
    let worker = tokio::spawn(worker(requests, FrameWriter::new(write), budget));
    let mut served = Served::default();
    loop {
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            request = reader.read_frame_owned() => {
                let Some(request) = request? else { break };
                served.read += 1;
                if request.get(..4) == Some(&STOP.to_be_bytes()[..]) {
                    shutdown.cancel();
                }
                if to_worker.send(request).await.is_err() {
                    break; // the worker failed: its error is returned below
                }
            }
        }
    }
    // Requests that arrived with the last read are answered; nothing more is read.
    while let Some(request) = reader.next_buffered_owned()? {
        served.drained += 1;
        if to_worker.send(request).await.is_err() {
            break;
        }
    }
    drop(to_worker);
    worker.await.expect("the worker does not panic")?;
    Ok(served)
}

/// A request: the id, then `len` bytes.
fn request(id: u32, len: usize) -> Vec<u8> {
    let mut request = id.to_be_bytes().to_vec();
    request.extend((0..len).map(|i| (i as u32 ^ id) as u8));
    request
}

/// What the answer to `request` must be.
fn answer_to(request: &[u8]) -> Vec<u8> {
    let body = &request[4..];
    let mut answer = request[..4].to_vec();
    answer.extend_from_slice(&(body.len() as u32).to_be_bytes());
    answer.extend_from_slice(
        &body
            .iter()
            .map(|&b| u64::from(b))
            .sum::<u64>()
            .to_be_bytes(),
    );
    answer
}

/// Sends every request at once (pipelined), then reads the answers, each within `timeout`.
/// Returns how many were answered correctly.
async fn client(
    read: OwnedReadHalf,
    write: OwnedWriteHalf,
    requests: Vec<Vec<u8>>,
    timeout: Duration,
) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    let expected: Vec<Vec<u8>> = requests.iter().map(|r| answer_to(r)).collect();
    let sender = tokio::spawn(async move {
        let mut writer = FrameWriter::new(write);
        for request in &requests {
            writer.write_frame(request).await?;
        }
        writer.flush().await?;
        Ok::<_, FrameError>(writer)
    });
    let mut reader = FrameReader::new(read);
    let mut answered = 0;
    for (i, want) in expected.iter().enumerate() {
        match tokio::time::timeout(timeout, reader.read_frame()).await {
            Ok(Ok(Some(answer))) if answer == &want[..] => answered += 1,
            Ok(Ok(Some(_))) => return Err(format!("answer {i} is wrong").into()),
            Ok(Ok(None)) => return Err(format!("no answer to request {i}").into()),
            Ok(Err(e)) => return Err(e.into()),
            Err(_) => return Err(format!("request {i} timed out").into()),
        }
    }
    assert_eq!(reader.read_frame().await?, None); // the server closed after answering
    sender.await??;
    Ok(answered)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let budget = MemoryBudget::new(64 << 20);
    let server = {
        let shutdown = shutdown.clone();
        let budget = budget.clone();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await?;
            serve(stream, shutdown, budget).await
        })
    };

    // Small and large requests, the shutdown request, and four more pipelined behind it:
    // they arrive with it, so they are buffered when the server stops reading.
    let mut requests: Vec<Vec<u8>> = [10, 100, 2 << 20, 5, 1 << 20, 50]
        .iter()
        .enumerate()
        .map(|(id, &len)| request(id as u32, len))
        .collect();
    requests.push(request(STOP, 0));
    requests.extend((0..4).map(|i| request(100 + i, 8)));
    let total = requests.len();

    let (read, write) = TcpStream::connect(addr).await?.into_split();
    let answered = client(read, write, requests, Duration::from_secs(5)).await?;
    let served = server.await??;

    println!("requests sent:                  {total}");
    println!("read while serving:             {}", served.read);
    println!("drained after the shutdown:     {}", served.drained);
    println!("answered (each within timeout): {answered}");
    println!("budget in use at the end:       {} bytes", budget.in_use());
    assert_eq!(served.read + served.drained, total);
    assert_eq!(answered, total);
    assert_eq!(budget.in_use(), 0);
    Ok(())
}
