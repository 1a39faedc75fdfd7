//! A proxy on loopback that loses replies, as a flaky network or a proxy that times out does:
//! it forwards each request to the app and never lets the answer reach the client.

use std::net::SocketAddr;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// When the reply is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loses {
    /// The app answers (it has done its work); the answer is thrown away.
    TheAnswer,
    /// Both connections are closed as soon as the request is through: the app may stop in the
    /// middle of its work, as a process that dies does.
    TheConnection,
}

/// A proxy to `upstream` (`http://127.0.0.1:<port>`), serving in the background for the rest of
/// the test; returns its own base URL.
pub async fn losing_replies(upstream: &str, loses: Loses) -> String {
    let upstream: SocketAddr = upstream
        .trim_start_matches("http://")
        .parse()
        .expect("a loopback address");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(forward(client, upstream, loses));
        }
    });
    format!("http://{address}")
}

async fn forward(mut client: TcpStream, upstream: SocketAddr, loses: Loses) {
    let Ok(mut app) = TcpStream::connect(upstream).await else {
        return;
    };
    // The whole request (the tests' requests are small, and sent at once).
    let mut request = vec![0; 64 * 1024];
    let Ok(read) = client.read(&mut request).await else {
        return;
    };
    if app.write_all(&request[..read]).await.is_err() {
        return;
    }
    if loses == Loses::TheAnswer {
        // The first bytes of the answer: the app has finished the request.
        let mut answer = [0; 1];
        let _ = app.read(&mut answer).await;
    }
    drop(app);
    drop(client);
}
