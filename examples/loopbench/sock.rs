//! Connected socket pairs (127.0.0.1 TCP and Unix), as std streams and as tokio streams.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::Barrier;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Transport {
    Tcp,
    Unix,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "TCP",
            Transport::Unix => "Unix",
        }
    }
}

/// One end of a connected socket pair.
#[derive(Debug)]
pub enum Sock {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.read(buf),
            Sock::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.write(buf),
            Sock::Unix(s) => s.write(buf),
        }
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.write_vectored(bufs),
            Sock::Unix(s) => s.write_vectored(bufs),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub fn tcp_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let a = TcpStream::connect(listener.local_addr()?)?;
    let (b, _) = listener.accept()?;
    Ok((a, b))
}

pub fn pair(t: Transport) -> io::Result<(Sock, Sock)> {
    Ok(match t {
        Transport::Tcp => {
            let (a, b) = tcp_pair()?;
            (Sock::Tcp(a), Sock::Tcp(b))
        }
        Transport::Unix => {
            let (a, b) = UnixStream::pair()?;
            (Sock::Unix(a), Sock::Unix(b))
        }
    })
}

/// Runs `f` on a current-thread runtime of this thread, over the tokio form of `sock`,
/// after the start signal.
pub fn tokio_side<T, F, Fut>(sock: Sock, start: &Barrier, f: F) -> io::Result<T>
where
    F: FnOnce(TokioSock) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let sock = {
        let _guard = rt.enter();
        match sock {
            Sock::Tcp(s) => {
                s.set_nonblocking(true)?;
                TokioSock::Tcp(tokio::net::TcpStream::from_std(s)?)
            }
            Sock::Unix(s) => {
                s.set_nonblocking(true)?;
                TokioSock::Unix(tokio::net::UnixStream::from_std(s)?)
            }
        }
    };
    start.wait();
    rt.block_on(f(sock))
}

/// One end of a socket pair, registered with tokio.
pub enum TokioSock {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

impl AsyncRead for TokioSock {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            TokioSock::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            TokioSock::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for TokioSock {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            TokioSock::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            TokioSock::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            TokioSock::Tcp(s) => Pin::new(s).poll_flush(cx),
            TokioSock::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            TokioSock::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            TokioSock::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
