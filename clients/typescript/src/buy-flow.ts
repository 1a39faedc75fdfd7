// The whole buy flow through the generated types and openapi-fetch, against a running server:
//   node dist/buy-flow.js http://127.0.0.1:3000
// A seller signs up and lists a ticket, a buyer orders and pays for it, and the order is
// complete. `tsc --strict` checks every path, body and field against openapi.json: a wrong field
// name, `status === "completed"` or a price that is not a number do not compile.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Order = components["schemas"]["OrderJson"];

const base = process.argv[2] ?? "http://127.0.0.1:3000";

function fail(what: string, detail: unknown): never {
  console.error(`buy flow: ${what}: ${JSON.stringify(detail)}`);
  process.exit(1);
}

/** A client whose every request carries `token` as a bearer token. */
function signedIn(token: string) {
  return createClient<paths>({ baseUrl: base, headers: { Authorization: `Bearer ${token}` } });
}

const anonymous = createClient<paths>({ baseUrl: base });

/** Signs a new user up; a client signed in as them, and their id. */
async function newUser(who: string): Promise<{ client: ReturnType<typeof signedIn>; id: string }> {
  const email = `${who}-${crypto.randomUUID()}@example.com`;
  const password = "correct horse";
  const signedUp = await anonymous.POST("/api/users/signup", { body: { email, password } });
  if (!signedUp.data) fail("sign up", signedUp.error);
  const token = await anonymous.POST("/api/users/token", { body: { email, password } });
  if (!token.data) fail("token", token.error);
  return { client: signedIn(token.data.token), id: signedUp.data.id };
}

const seller = await newUser("seller");
const buyer = await newUser("buyer");

const listed = await seller.client.POST("/api/tickets", {
  body: { title: "TypeScript concert", price: 19.99 },
});
if (!listed.data) fail("list a ticket", listed.error);
const ticket = listed.data;
if (ticket.priceCents !== 1999 || ticket.currency !== "usd") fail("ticket price", ticket);

const ordered = await buyer.client.POST("/api/orders", {
  params: { header: { "Idempotency-Key": crypto.randomUUID() } },
  body: { ticketId: ticket.id },
});
if (!ordered.data) fail("order", ordered.error);
const order: Order = ordered.data;
if (order.status !== "created") fail("new order status", order);

// A refusal is typed as the contract's error body.
const again = await seller.client.POST("/api/orders", { body: { ticketId: ticket.id } });
if (again.response.status !== 400 || !again.error) fail("ordering a taken ticket", again.data);
console.log(`refused as expected: ${again.error.errors.map((e) => e.message).join("; ")}`);

const paid = await buyer.client.POST("/api/payments", {
  body: { orderId: order.id, token: "tok_visa" },
});
if (!paid.data) fail("pay", paid.error);

const shown = await buyer.client.GET("/api/orders/{id}", { params: { path: { id: order.id } } });
if (!shown.data) fail("show the order", shown.error);
if (shown.data.status !== "complete") fail("paid order status", shown.data);

const me = await buyer.client.GET("/api/users/currentuser");
if (me.data?.currentUser?.id !== buyer.id) fail("current user", me.data);
const nobody = await anonymous.GET("/api/users/currentuser");
if (nobody.data?.currentUser !== null) fail("signed out is null", nobody.data);

console.log(`bought "${ticket.title}" for ${ticket.priceCents / 100} ${ticket.currency}: order ${order.id} is ${shown.data.status}`);
