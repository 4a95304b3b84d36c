const express = require("express");
const mysql = require("mysql2/promise");
const knex = require("knex")({ client: "pg" });
const { Sequelize, QueryTypes } = require("sequelize");

const app = express();
const sequelize = new Sequelize(process.env.DATABASE_URL);
const connection = mysql.createPool(process.env.MYSQL_URL);

// --- mysql2 --------------------------------------------------------------------------------

app.get("/products", async function (req, res) {
  // ruleid: request-data-in-sql-string
  const [rows] = await connection.execute("SELECT * FROM products WHERE sku = '" + req.query.sku + "'");
  res.json(rows);
});

app.get("/products/by-brand", async function (req, res) {
  const query = `SELECT * FROM products WHERE brand = '${req.cookies.brand}'`;
  // ruleid: request-data-in-sql-string
  const [rows] = await connection.query({ sql: query, rowsAsArray: true });
  res.json(rows);
});

app.get("/products/safe", async function (req, res) {
  // ok: request-data-in-sql-string
  const [rows] = await connection.execute("SELECT * FROM products WHERE sku = ?", [req.query.sku]);
  res.json(rows);
});

app.get("/products/escaped", async function (req, res) {
  // ok: request-data-in-sql-string
  const [rows] = await connection.query("SELECT * FROM products WHERE sku = " + connection.escape(req.query.sku));
  res.json(rows);
});

// --- knex ----------------------------------------------------------------------------------

app.get("/orders", async function (req, res) {
  // ruleid: request-data-in-sql-string
  const rows = await knex.raw(`SELECT * FROM orders WHERE customer = '${req.body.customer}'`);
  res.json(rows);
});

app.get("/orders/recent", async function (req, res) {
  // ruleid: request-data-in-sql-string
  const rows = await knex("orders").whereRaw("created_at > '" + req.query.since + "'");
  res.json(rows);
});

app.get("/orders/builder", async function (req, res) {
  // ok: request-data-in-sql-string
  const rows = await knex("orders").where({ customer: req.query.customer }).orderBy("created_at");
  res.json(rows);
});

app.get("/orders/bindings", async function (req, res) {
  // ok: request-data-in-sql-string
  const rows = await knex.raw("SELECT * FROM orders WHERE customer = ?", [req.query.customer]);
  res.json(rows);
});

// --- sequelize -----------------------------------------------------------------------------

app.get("/accounts", async function (req, res) {
  // ruleid: request-data-in-sql-string
  const rows = await sequelize.query(`SELECT * FROM accounts WHERE region = '${req.params.region}'`, {
    type: QueryTypes.SELECT,
  });
  res.json(rows);
});

app.get("/accounts/replacements", async function (req, res) {
  // ok: request-data-in-sql-string
  const rows = await sequelize.query("SELECT * FROM accounts WHERE region = :region", {
    replacements: { region: req.params.region },
    type: QueryTypes.SELECT,
  });
  res.json(rows);
});
