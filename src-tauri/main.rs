fn main(){ jingtong_app::run() }
