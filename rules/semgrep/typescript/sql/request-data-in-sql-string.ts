import express, { Request, Response } from "express";
import { NextRequest, NextResponse } from "next/server";
import { Pool } from "pg";
import { Prisma, PrismaClient } from "@prisma/client";
import { sql } from "@vercel/postgres";
import SQL from "sql-template-strings";

const app = express();
const pool = new Pool();
const prisma = new PrismaClient();
const SORTABLE_COLUMNS: Record<string, string> = { name: "name", created: "created_at" };
const DIRECTIONS = new Set(["asc", "desc"]);

// --- Express + pg -------------------------------------------------------------------------

app.get("/users/:id", async (req: Request, res: Response) => {
  // ruleid: request-data-in-sql-string
  const result = await pool.query(`SELECT * FROM users WHERE id = '${req.params.id}'`);
  res.json(result.rows);
});

app.get("/search", async (req: Request, res: Response) => {
  const { name } = req.query;
  // ruleid: request-data-in-sql-string
  const result = await pool.query("SELECT * FROM users WHERE name LIKE '%" + name + "%'");
  res.json(result.rows);
});

app.get("/filter", async (req: Request, res: Response) => {
  let text = "SELECT * FROM orders WHERE 1 = 1";
  if (req.query.status) {
    text += ` AND status = '${req.query.status}'`;
  }
  // ruleid: request-data-in-sql-string
  const result = await pool.query({ text, rowMode: "array" });
  res.json(result.rows);
});

app.post("/notes", async (req: Request, res: Response) => {
  const statement = "INSERT INTO notes (body) VALUES ('".concat(req.body.text, "')");
  // ruleid: request-data-in-sql-string
  await pool.query(statement);
  res.sendStatus(201);
});

app.get("/by-tenant", async (req: Request, res: Response) => {
  const where = ["tenant =", req.headers["x-tenant"]].join(" ");
  // ruleid: request-data-in-sql-string
  const result = await pool.query({ text: `SELECT * FROM invoices WHERE ${where}`, values: [] });
  res.json(result.rows);
});

app.get("/users/:id/safe", async (req: Request, res: Response) => {
  // ok: request-data-in-sql-string
  const result = await pool.query("SELECT * FROM users WHERE id = $1", [req.params.id]);
  res.json(result.rows);
});

app.get("/users/:id/config-object", async (req: Request, res: Response) => {
  // ok: request-data-in-sql-string
  const result = await pool.query({ text: "SELECT * FROM users WHERE id = $1", values: [req.params.id] });
  res.json(result.rows);
});

app.get("/users/:id/number", async (req: Request, res: Response) => {
  // ok: request-data-in-sql-string
  const result = await pool.query(`SELECT * FROM users WHERE id = ${Number(req.params.id)}`);
  res.json(result.rows);
});

app.get("/users/page", async (req: Request, res: Response) => {
  const limit = parseInt(String(req.query.limit), 10) || 20;
  // ok: request-data-in-sql-string
  const result = await pool.query(`SELECT * FROM users LIMIT ${limit}`);
  res.json(result.rows);
});

app.get("/users/sorted", async (req: Request, res: Response) => {
  const column = SORTABLE_COLUMNS[String(req.query.sort)] ?? "id";
  // ok: request-data-in-sql-string
  const result = await pool.query(`SELECT * FROM users ORDER BY ${column}`);
  res.json(result.rows);
});

app.get("/users/direction", async (req: Request, res: Response) => {
  const direction = DIRECTIONS.has(String(req.query.dir)) ? String(req.query.dir) : "asc";
  // ok: request-data-in-sql-string
  const result = await pool.query(`SELECT * FROM users ORDER BY id ${direction}`);
  res.json(result.rows);
});

app.get("/users/by-role", async (req: Request, res: Response) => {
  const role = String(req.query.role);
  if (["admin", "staff"].includes(role)) {
    // ok: request-data-in-sql-string
    const result = await pool.query("SELECT * FROM users WHERE role = '" + role + "'");
    res.json(result.rows);
  }
});

app.get("/users/active", async (req: Request, res: Response) => {
  const status = "active";
  // ok: request-data-in-sql-string
  const result = await pool.query("SELECT * FROM users WHERE status = '" + status + "'");
  res.json(result.rows.slice(0, Number(req.query.limit)));
});

app.get("/users/tagged", async (req: Request, res: Response) => {
  // ok: request-data-in-sql-string
  const { rows } = await sql`SELECT * FROM users WHERE email = ${req.query.email}`;
  res.json(rows);
});

app.get("/users/tagged-statement", async (req: Request, res: Response) => {
  // ok: request-data-in-sql-string
  const result = await pool.query(SQL`SELECT * FROM users WHERE email = ${req.query.email}`);
  res.json(result.rows);
});

app.post("/commands", async (req: Request, res: Response) => {
  // ok: request-data-in-sql-string
  await commandBus.execute(new CreateUserCommand(req.body.name, req.body.email));
  res.sendStatus(202);
});

// --- Prisma --------------------------------------------------------------------------------

app.get("/posts", async (req: Request, res: Response) => {
  // ruleid: request-data-in-sql-string
  const posts = await prisma.$queryRawUnsafe(`SELECT * FROM "Post" WHERE title = '${req.query.title}'`);
  res.json(posts);
});

app.delete("/posts/:id", async (req: Request, res: Response) => {
  // ruleid: request-data-in-sql-string
  await prisma.$executeRawUnsafe('DELETE FROM "Post" WHERE id = ' + req.params.id);
  res.sendStatus(204);
});

app.get("/posts/safe", async (req: Request, res: Response) => {
  // ok: request-data-in-sql-string
  const posts = await prisma.$queryRaw`SELECT * FROM "Post" WHERE title = ${req.query.title}`;
  res.json(posts);
});

app.get("/posts/unsafe-with-parameters", async (req: Request, res: Response) => {
  // ok: request-data-in-sql-string
  const posts = await prisma.$queryRawUnsafe('SELECT * FROM "Post" WHERE title = $1', req.query.title);
  res.json(posts);
});

app.get("/posts/fragment", async (req: Request, res: Response) => {
  const filter = Prisma.sql`WHERE author = ${req.query.author}`;
  // ok: request-data-in-sql-string
  const posts = await prisma.$queryRaw(Prisma.sql`SELECT * FROM "Post" ${filter}`);
  res.json(posts);
});

app.get("/posts/raw-fragment", async (req: Request, res: Response) => {
  // ruleid: request-data-in-sql-string
  const order = Prisma.raw(`ORDER BY ${req.query.order}`);
  const posts = await prisma.$queryRaw`SELECT * FROM "Post" ${order}`;
  res.json(posts);
});

// --- postgres.js ---------------------------------------------------------------------------

app.get("/events", async (req: Request, res: Response) => {
  // ruleid: request-data-in-sql-string
  const events = await sql.unsafe(`SELECT * FROM events WHERE kind = '${req.query.kind}'`);
  res.json(events);
});

// --- Next.js app-router route handlers ------------------------------------------------------

export async function GET(request: NextRequest, { params }: { params: { id: string } }) {
  const name = request.nextUrl.searchParams.get("name");
  // ruleid: request-data-in-sql-string
  const byName = await pool.query(`SELECT * FROM teams WHERE name = '${name}'`);
  // ruleid: request-data-in-sql-string
  const byId = await pool.query("SELECT * FROM teams WHERE id = " + params.id);
  return NextResponse.json({ byName: byName.rows, byId: byId.rows });
}

export async function POST(request: Request, context: { params: Promise<{ slug: string }> }) {
  const { slug } = await context.params;
  const body = await request.json();
  // ruleid: request-data-in-sql-string
  await pool.query(`INSERT INTO pages (slug, title) VALUES ('${slug}', '${body.title}')`);
  // ok: request-data-in-sql-string
  await pool.query("INSERT INTO pages (slug, title) VALUES ($1, $2)", [slug, body.title]);
  return NextResponse.json({ ok: true });
}

export async function DELETE(request: Request) {
  const { searchParams } = new URL(request.url);
  // ruleid: request-data-in-sql-string
  await pool.query(`DELETE FROM sessions WHERE token = '${searchParams.get("token")}'`);
  return new Response(null, { status: 204 });
}
